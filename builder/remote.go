package builder

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/layers-dev/layers/internal/parallel"
	"github.com/layers-dev/layers/remote"
)

// transfers bounds the remote cache transfers running at once: they wait
// on the network, not on the CPUs.
const transfers = 8

// fromRemote serves what it can of todo, the units the local cache lacks,
// from the remote tier into the local cache, and returns the jobs left to
// build.
func (b *Builder) fromRemote(ctx context.Context, todo []*job) ([]*job, error) {
	if b.o.Remote == nil || len(todo) == 0 {
		return todo, nil
	}
	served := make([]bool, len(todo))
	err := parallel.ForEach(ctx, transfers, len(todo), func(ctx context.Context, i int) error {
		j := todo[i]
		e, err := b.o.Cache.Put(j.key, func(dir string) error {
			return b.o.Remote.FetchUnit(ctx, j.key.Digest(), dir)
		})
		if errors.Is(err, remote.ErrMiss) {
			return nil
		}
		if err != nil {
			return err
		}
		*j.out = Unit{Spec: j.spec, Key: j.key, Dir: e.Dir, Files: e.Files, Bytes: e.Bytes, ByteCode: e.ByteCode, Cached: true}
		served[i] = true
		b.progress(Event{Unit: j.spec.String(), Cached: true, Remote: true, Bytes: e.Bytes, ByteCode: e.ByteCode})
		return nil
	})
	if err != nil {
		return nil, err
	}
	var left []*job
	for i, j := range todo {
		if !served[i] {
			left = append(left, j)
		}
	}
	return left, nil
}

// toRemote uploads the units this run built, unless the remote tier holds
// them already. It is best effort: the tier reports its own failures.
func (b *Builder) toRemote(ctx context.Context, built []*job) {
	if !b.o.Remote.Writes() || len(built) == 0 {
		return
	}
	_ = parallel.ForEach(ctx, transfers, len(built), func(ctx context.Context, i int) error {
		j := built[i]
		b.o.Remote.StoreUnit(ctx, j.key.Digest(), j.out.Dir)
		if data, err := json.Marshal(UnitSize{Bytes: j.out.Bytes, ByteCode: j.out.ByteCode}); err == nil {
			b.o.Remote.Store(ctx, remote.UnitSizeKey(j.key.Digest()), data, true)
		}
		return nil
	})
}

// UnitSize is a unit's measured size, which the remote tier keeps next to
// the unit so that a plan on a fresh runner knows it without fetching it.
type UnitSize struct {
	Bytes    int64 `json:"bytes"`
	ByteCode int64 `json:"bytecode_bytes"`
}

// RemoteUnitSize returns the size the remote tier records for the unit
// whose key digest is digest; false when it has none.
func RemoteUnitSize(ctx context.Context, tier *remote.Tier, digest string) (UnitSize, bool) {
	if tier == nil {
		return UnitSize{}, false
	}
	data, err := tier.Fetch(ctx, remote.UnitSizeKey(digest))
	if err != nil {
		return UnitSize{}, false
	}
	var s UnitSize
	if json.Unmarshal(data, &s) != nil || s.Bytes <= 0 {
		return UnitSize{}, false
	}
	return s, true
}
