package server_test

import (
	"os"
	"testing"

	"github.com/coppice-dev/coppice/storage/storagetest"
)

// TestMain stops the throwaway PostgreSQL server of COPPICE_TEST_DB=postgres
// runs when the tests are done.
func TestMain(m *testing.M) { os.Exit(storagetest.Main(m)) }
