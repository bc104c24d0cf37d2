package scfws_test

import (
	"testing"
	"time"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

func TestMemoryStore(t *testing.T) {
	scfwstest.TestStore(t, func(t *testing.T, ttl time.Duration) scfws.Store {
		return &scfws.MemoryStore{TTL: ttl}
	})
}
