package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/client"
)

// Member is what a Pool needs of each of its engines; *Docker has it.
type Member interface {
	Engine
	// Host names the engine in messages: its address as configured.
	Host() string
	// Ping reports whether the engine answers.
	Ping(ctx context.Context) error
	// SaveImage streams the image id as a docker-archive.
	SaveImage(ctx context.Context, id string) (io.ReadCloser, error)
	// LoadImage loads a docker-archive SaveImage wrote.
	LoadImage(ctx context.Context, archive io.Reader) error
}

// PoolMember is one engine of a Pool and the platforms it builds for.
type PoolMember struct {
	Engine    Member
	Platforms []string // "linux/amd64", "linux/arm64"
	// Slots is how many containers the engine runs at once before it
	// counts as busier than an idle one; at least 1.
	Slots int
}

// Pool is an Engine over several engines, each building for one or more
// platforms: [build] engines. A run goes to the least busy engine of its
// platform (containers running per slot; the first configured wins a tie).
//
// An engine that fails while it runs a container (it stops answering:
// the daemon died, the host went away, the connection was refused or
// reset) is taken out of the pool for the rest of the build, and that run
// ends with a *FailedError; the caller retries it from scratch with
// Retry, and the pool sends it to another engine of the platform. A
// container that exits non-zero is the run's failure, not the engine's.
// When no engine of a platform is left, runs end with a *NoEngineError
// naming them.
//
// Build images: cache keys hold the image ID, so every engine of a
// platform must run the same image, whatever its tags say. The first
// engine (in configured order) that has the reference decides the ID; an
// engine that lacks an image of that ID gets a copy (ImageSave, then
// ImageLoad, which keeps the ID), untagged, so the user's tags on that
// engine are never moved. Runs name images by ID.
type Pool struct {
	members []*poolMember
	// Log, when set, receives a line per image copied between engines.
	Log func(string)

	mu     sync.Mutex
	images map[string]string // ref + "\x00" + platform -> ID, on every engine
}

type poolMember struct {
	PoolMember
	busy, runs int
	// down says why the engine was taken out; nil while it is in.
	down error
	// lost counts the runs that failed with it.
	lost int
}

var _ Engine = (*Pool)(nil)

// NewPool returns a pool over members, in configured order.
func NewPool(members []PoolMember) (*Pool, error) {
	if len(members) == 0 {
		return nil, errors.New("engine pool: no engines")
	}
	p := &Pool{images: map[string]string{}}
	for _, m := range members {
		if m.Slots < 1 {
			m.Slots = 1
		}
		for _, plat := range m.Platforms {
			if _, err := parsePlatform(plat); err != nil {
				return nil, err
			}
		}
		p.members = append(p.members, &poolMember{PoolMember: m})
	}
	return p, nil
}

// serves reports whether m builds for plat.
func (m *poolMember) serves(plat string) bool {
	for _, p := range m.Platforms {
		if p == plat {
			return true
		}
	}
	return false
}

// live returns the engines of plat still in the pool, in configured order.
func (p *Pool) live(plat string) []*poolMember {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*poolMember
	for _, m := range p.members {
		if m.down == nil && m.serves(plat) {
			out = append(out, m)
		}
	}
	return out
}

// Slots returns how many containers the engines of plat still in the pool
// run at once, together: the builder's default parallelism.
func (p *Pool) Slots(plat string) int {
	n := 0
	for _, m := range p.live(plat) {
		n += m.Slots
	}
	return n
}

// First returns the first engine of plat still in the pool, in configured
// order, or nil: where work that needs one engine (an image function's
// image) goes.
func (p *Pool) First(plat string) Member {
	if l := p.live(plat); len(l) > 0 {
		return l[0].Engine
	}
	return nil
}

// ImageID implements Engine: the ID of ref on the first engine of the
// platform that has it, after making sure every other engine of the
// platform has an image of that ID.
func (p *Pool) ImageID(ctx context.Context, ref, plat string) (string, error) {
	key := ref + "\x00" + plat
	p.mu.Lock()
	id, ok := p.images[key]
	p.mu.Unlock()
	if ok {
		return id, nil
	}
	members := p.live(plat)
	if len(members) == 0 {
		return "", p.noEngine(plat)
	}
	var src Member
	for _, m := range members {
		got, err := m.Engine.ImageID(ctx, ref, plat)
		if errors.Is(err, ErrImageNotFound) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("engine %s: %w", m.Engine.Host(), err)
		}
		id, src = got, m.Engine
		break
	}
	if src == nil {
		return "", fmt.Errorf("image %s: no engine for %s has it: %w", ref, plat, ErrImageNotFound)
	}
	for _, m := range members {
		if m.Engine == src {
			continue
		}
		if _, err := m.Engine.ImageID(ctx, id, plat); err == nil {
			continue
		} else if !errors.Is(err, ErrImageNotFound) {
			return "", fmt.Errorf("engine %s: %w", m.Engine.Host(), err)
		}
		if err := p.copyImage(ctx, src, m.Engine, ref, id, plat); err != nil {
			return "", err
		}
	}
	p.mu.Lock()
	p.images[key] = id
	p.mu.Unlock()
	return id, nil
}

// copyImage copies the image id from src to dst and checks that dst has
// it under the same ID.
func (p *Pool) copyImage(ctx context.Context, src, dst Member, ref, id, plat string) error {
	start := time.Now()
	fail := func(err error) error {
		return fmt.Errorf("copy image %s (%.19s) from engine %s to engine %s: %w", ref, id, src.Host(), dst.Host(), err)
	}
	rc, err := src.SaveImage(ctx, id)
	if err != nil {
		return fail(err)
	}
	defer rc.Close()
	if err := dst.LoadImage(ctx, rc); err != nil {
		return fail(err)
	}
	if _, err := dst.ImageID(ctx, id, plat); err != nil {
		return fail(err)
	}
	if p.Log != nil {
		p.Log(fmt.Sprintf("image %s (%.19s): copied from engine %s to engine %s in %s", ref, id, src.Host(), dst.Host(),
			time.Since(start).Round(100*time.Millisecond)))
	}
	return nil
}

// Pull implements Engine: it pulls on the first engine of the platform;
// ImageID then copies the image to the others.
func (p *Pool) Pull(ctx context.Context, ref, plat string) error {
	first := p.First(plat)
	if first == nil {
		return p.noEngine(plat)
	}
	p.mu.Lock()
	delete(p.images, ref+"\x00"+plat)
	p.mu.Unlock()
	if err := first.Pull(ctx, ref, plat); err != nil {
		return fmt.Errorf("engine %s: %w", first.Host(), err)
	}
	return nil
}

// pingTimeout bounds the check of whether an engine whose run failed still
// answers.
const pingTimeout = 10 * time.Second

// Run implements Engine: on the least busy engine of spec.Platform.
func (p *Pool) Run(ctx context.Context, spec RunSpec) error {
	m := p.pick(spec.Platform)
	if m == nil {
		return p.noEngine(spec.Platform)
	}
	err := m.Engine.Run(ctx, spec)
	p.mu.Lock()
	m.busy--
	p.mu.Unlock()
	var exit *ExitError
	if err == nil || ctx.Err() != nil || errors.As(err, &exit) {
		return err
	}
	// The run failed, not its container: the engine's failure when it
	// no longer answers. One that answers failed the run for a reason
	// of the run's own (its output could not be stored, say), which
	// another engine would meet too.
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	perr := m.Engine.Ping(pctx)
	cancel()
	if perr == nil || ctx.Err() != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if m.down == nil {
		m.down = err
	}
	m.lost++
	return &FailedError{Host: m.Engine.Host(), Err: err}
}

// pick returns the least busy engine of plat still in the pool, counting
// the run on it, or nil.
func (p *Pool) pick(plat string) *poolMember {
	p.mu.Lock()
	defer p.mu.Unlock()
	var best *poolMember
	for _, m := range p.members {
		if m.down != nil || !m.serves(plat) {
			continue
		}
		// busy/slots < best.busy/best.slots, without division.
		if best == nil || m.busy*best.Slots < best.busy*m.Slots {
			best = m
		}
	}
	if best != nil {
		best.busy++
		best.runs++
	}
	return best
}

// RemoveLeftovers implements Engine, on every engine of the pool.
func (p *Pool) RemoveLeftovers(ctx context.Context) (int, error) {
	total := 0
	for _, m := range p.members {
		n, err := m.Engine.RemoveLeftovers(ctx)
		total += n
		if err != nil {
			return total, fmt.Errorf("engine %s: %w", m.Engine.Host(), err)
		}
	}
	return total, nil
}

// Usage is what one engine of a pool did in a build.
type Usage struct {
	Host string
	// Runs counts the containers sent to it, Lost those that failed
	// with it.
	Runs, Lost int
	// Down says why the engine was taken out of the pool; nil when it
	// was not.
	Down error
	// RetriedOn names the engines of its platforms still in the pool,
	// where its lost runs went.
	RetriedOn []string
}

// Usage returns every engine's figures, in configured order.
func (p *Pool) Usage() []Usage {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Usage, 0, len(p.members))
	for _, m := range p.members {
		u := Usage{Host: m.Engine.Host(), Runs: m.runs, Lost: m.lost, Down: m.down}
		if m.down != nil {
			for _, o := range p.members {
				if o.down == nil && sharesPlatform(m, o) {
					u.RetriedOn = append(u.RetriedOn, o.Engine.Host())
				}
			}
		}
		out = append(out, u)
	}
	return out
}

func sharesPlatform(a, b *poolMember) bool {
	for _, plat := range a.Platforms {
		if b.serves(plat) {
			return true
		}
	}
	return false
}

// noEngine returns the *NoEngineError of plat.
func (p *Pool) noEngine(plat string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := &NoEngineError{Platform: plat}
	for _, m := range p.members {
		if m.serves(plat) {
			e.Failed = append(e.Failed, FailedError{Host: m.Engine.Host(), Err: m.down})
		}
	}
	return e
}

// FailedError is a run whose engine failed: it stopped answering while the
// run was on it, and the pool took it out. The run may have left part of
// its output behind; Retry runs it again from scratch.
type FailedError struct {
	Host string
	Err  error
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("engine %s failed mid-build: %v", e.Host, e.Err)
}

func (e *FailedError) Unwrap() error { return e.Err }

// NoEngineError is a run for a platform whose engines have all failed, or
// that no engine builds for.
type NoEngineError struct {
	Platform string
	Failed   []FailedError // the platform's engines and why each failed
}

func (e *NoEngineError) Error() string {
	if len(e.Failed) == 0 {
		return fmt.Sprintf("no engine in [build] engines builds for %s", e.Platform)
	}
	var parts []string
	for _, f := range e.Failed {
		parts = append(parts, fmt.Sprintf("%s (%v)", f.Host, f.Err))
	}
	return fmt.Sprintf("every engine for %s failed: %s", e.Platform, strings.Join(parts, "; "))
}

// Retry calls attempt until it ends in anything but a *FailedError, which
// a Pool returns once per engine it takes out, so the calls end. Each
// attempt must start from scratch: the failed one may have left part of
// its output.
func Retry(ctx context.Context, attempt func(ctx context.Context) error) error {
	for {
		err := attempt(ctx)
		var failed *FailedError
		if !errors.As(err, &failed) || ctx.Err() != nil {
			return err
		}
	}
}

// Ping implements Member.
func (d *Docker) Ping(ctx context.Context) error {
	_, err := d.cli.Ping(ctx)
	return err
}

// SaveImage implements Member.
func (d *Docker) SaveImage(ctx context.Context, id string) (io.ReadCloser, error) {
	rc, err := d.cli.ImageSave(ctx, []string{id})
	if err != nil {
		return nil, fmt.Errorf("save image %.19s: %w", id, err)
	}
	return rc, nil
}

// LoadImage implements Member.
func (d *Docker) LoadImage(ctx context.Context, archive io.Reader) error {
	resp, err := d.cli.ImageLoad(ctx, archive, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("load image: %w", err)
	}
	defer resp.Body.Close()
	if err := readStream(resp.Body); err != nil {
		return fmt.Errorf("load image: %w", err)
	}
	return nil
}

// CPUs returns how many CPUs the engine's host has, 1 when it does not
// say: a pool member's Slots.
func (d *Docker) CPUs(ctx context.Context) int {
	info, err := d.info(ctx)
	if err != nil || info.NCPU < 1 {
		return 1
	}
	return info.NCPU
}

var _ Member = (*Docker)(nil)

// PoolEndpoint is an engine to dial for a Pool and the platforms it
// builds for.
type PoolEndpoint struct {
	Endpoint
	Platforms []string
}

// DialPool dials every endpoint, in order, and returns a pool over them
// whose members' Slots are their hosts' CPUs. An engine that does not
// answer fails the whole dial: a build does not start without an engine
// its configuration names.
func DialPool(ctx context.Context, eps []PoolEndpoint) (*Pool, error) {
	var members []PoolMember
	closeAll := func() {
		for _, m := range members {
			m.Engine.(*Docker).Close()
		}
	}
	for _, ep := range eps {
		d, err := DialEndpoint(ctx, ep.Endpoint)
		if err != nil {
			closeAll()
			return nil, err
		}
		members = append(members, PoolMember{Engine: d, Platforms: ep.Platforms, Slots: d.CPUs(ctx)})
	}
	p, err := NewPool(members)
	if err != nil {
		closeAll()
		return nil, err
	}
	return p, nil
}

// Close closes the connections of the pool's engines that can be closed.
func (p *Pool) Close() error {
	var errs []error
	for _, m := range p.members {
		if c, ok := m.Engine.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
