package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/config"
)

func runAdmin(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{errors.New("admin: want create USERNAME")}
	}
	cfg := config.Default()
	fs := newFlagSet("admin create")
	dbFlag(fs, &cfg)
	pos, err := parse(fs, args[1:], env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{errors.New("admin create: want exactly one USERNAME")}
	}
	// The password comes from standard input, never from a flag, so it
	// stays out of shell history and process lists.
	line, err := bufio.NewReader(io.LimitReader(stdin, community.MaxPassword+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return usageError{errors.New("admin create: give the password on standard input")}
	}
	return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
		a, err := svc.CreateAdmin(ctx, pos[0], password)
		if errors.Is(err, community.ErrConflict) {
			return fmt.Errorf("admin %s exists already", pos[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created admin %s\n", a.Username)
		return nil
	})
}
