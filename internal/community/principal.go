package community

import (
	"context"
	"errors"

	"github.com/coppice-dev/coppice/storage"
)

// Principal is who asks a community to do something, whatever the door:
// a member signed in on the community's site (Actor), a console user
// (Console), or the operator at the command line (Operator). Exactly one
// is set. The community checks what the principal may do and records what
// it did in the same transaction.
type Principal struct {
	Actor    string       // a fediverse actor's IRI
	Console  *ConsoleUser // a console user
	Operator string       // the operator at the command line ("cli" when unnamed)
}

// Operator is the principal of the command line.
func Operator(name string) Principal {
	if name == "" {
		name = "cli"
	}
	return Principal{Operator: name}
}

// Member is the principal of a fediverse actor signed in on the site.
func Member(actorIRI string) Principal { return Principal{Actor: actorIRI} }

// Console is the principal of a console user.
func Console(u ConsoleUser) Principal { return Principal{Console: &u} }

// Name is how the principal appears in histories and the audit log: the
// actor's IRI, console:USERNAME or cli:NAME.
func (p Principal) Name() string {
	switch {
	case p.Actor != "":
		return p.Actor
	case p.Console != nil:
		return "console:" + p.Console.Account.Username
	default:
		return "cli:" + p.Operator
	}
}

// may reports whether p may act in community c with capability what:
// the operator always; a console user as its stewardship allows; an actor
// when it is a member in good standing (CanView) or a moderator
// (CanModerate, CanCurate).
func (s *Service) may(ctx context.Context, tx *storage.Tx, c storage.Community, p Principal, what Capability) (bool, error) {
	switch {
	case p.Console != nil:
		return p.Console.May(c, what), nil
	case p.Actor != "":
		banned, err := tx.IsBanned(ctx, c.ID, p.Actor)
		if err != nil || banned {
			return false, err
		}
		if what != CanView {
			return s.IsModerator(ctx, c, p.Actor)
		}
		f, err := tx.Follow(ctx, c.ID, p.Actor)
		if errors.Is(err, storage.ErrNotFound) {
			return false, nil
		}
		return err == nil && f.State == storage.FollowAccepted, err
	default:
		return p.Operator != "", nil
	}
}

// auditName is how the principal appears in the audit and moderation
// logs: a console user by username, as elsewhere in those logs; otherwise
// Name.
func (p Principal) auditName() string {
	if p.Console != nil {
		return p.Console.Account.Username
	}
	return p.Name()
}

// audit records what a principal did in community c, in tx.
func (s *Service) audit(ctx context.Context, tx *storage.Tx, c storage.Community, p Principal, action, target, detail string) error {
	return tx.RecordAudit(ctx, storage.AuditEntry{Username: p.auditName(), Action: action, Community: c.Name, Target: target, Detail: detail, At: s.now()})
}
