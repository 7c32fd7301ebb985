// Package outlock keeps two runs from writing the same output file: a run
// takes a lock file next to its output (OUT.lock) holding its process id,
// host name and start time, and a second run that finds the lock held by a
// live process is refused with a message naming the holder.
//
// A lock left behind by a run that died (kill -9, a crash, a lost node) is
// taken over when its process id is not running on this host; the caller
// gets a note saying so. A lock taken on another host cannot be checked
// from here: it is refused, and the message says how to remove it once
// that run is known to be gone.
//
// The lock file is created complete and atomically (written under a
// temporary name, then hard-linked into place, which fails if the lock
// exists), so another process never reads a half-written lock. Two runs
// taking over the same stale lock at the same instant are the one race
// left: both rename the stale file away, and only the run whose rename took
// the stale file (not the other's fresh lock) keeps it.
package outlock

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ErrLocked is returned (wrapped) when another run holds the lock.
var ErrLocked = errors.New("outlock: the output is in use by another run")

// Holder is what a lock file says about the run that holds it.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
	// Token tells this process's lock from an earlier one of a process
	// that had the same id.
	Token string `json:"token"`
}

// maxLockBytes bounds what is read of a lock file: a holder is well under
// a kilobyte, so anything longer is not a lock this package wrote.
const maxLockBytes = 4 << 10

// Path returns the lock file of an output path.
func Path(out string) string { return out + ".lock" }

// Lock is a held lock; Release gives it up.
type Lock struct {
	path   string
	holder Holder
}

// Acquire takes the lock of output path out for this process. It returns a
// note (empty when there is nothing to say) when it took over a stale lock,
// and an error wrapping ErrLocked when a live run holds it.
func Acquire(out string) (*Lock, string, error) {
	host, err := os.Hostname()
	if err != nil {
		return nil, "", fmt.Errorf("outlock: host name: %w", err)
	}
	var tok [8]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, "", fmt.Errorf("outlock: %w", err)
	}
	l := &Lock{path: Path(out), holder: Holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC().Truncate(time.Second), Token: hex.EncodeToString(tok[:])}}
	body, err := json.Marshal(l.holder)
	if err != nil {
		return nil, "", fmt.Errorf("outlock: %w", err)
	}
	note := ""
	// The second attempt follows taking over a stale lock; a third
	// would mean another run took it in between, which is an ordinary
	// "held" answer from the second.
	for attempt := 0; attempt < 2; attempt++ {
		err := create(l.path, body)
		if err == nil {
			return l, note, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, "", fmt.Errorf("outlock: creating %s: %w", l.path, err)
		}
		old, raw, err := read(l.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // released in between
		}
		if err != nil {
			return nil, "", fmt.Errorf("%w: %s exists but cannot be read as a lock (%v); if no run is writing %s, delete it", ErrLocked, l.path, err, out)
		}
		if old.Host != host {
			return nil, "", fmt.Errorf("%w: %s is held by process %d on host %s since %s; if that run is gone, delete %s",
				ErrLocked, out, old.PID, old.Host, old.Started.Format(time.RFC3339), l.path)
		}
		if alive(old.PID) {
			return nil, "", fmt.Errorf("%w: %s is being written by process %d on this host (%s) since %s; wait for it, or use another output (if process %d is not that run, delete %s)",
				ErrLocked, out, old.PID, host, old.Started.Format(time.RFC3339), old.PID, l.path)
		}
		if err := takeStale(l.path, raw); err != nil {
			return nil, "", err
		}
		note = fmt.Sprintf("took over the lock %s left by process %d (started %s), which is no longer running", l.path, old.PID, old.Started.Format(time.RFC3339))
	}
	return nil, "", fmt.Errorf("%w: %s was locked again while a stale lock was being taken over", ErrLocked, out)
}

// Release removes the lock file if it is still this lock's.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	h, _, err := read(l.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("outlock: releasing %s: %w", l.path, err)
	}
	if h != l.holder {
		return fmt.Errorf("outlock: %s now belongs to process %d on %s; left in place", l.path, h.PID, h.Host)
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("outlock: releasing: %w", err)
	}
	return nil
}

// create makes path hold body, failing with fs.ErrExist if it exists.
func create(path string, body []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
		var le *os.LinkError
		if err != nil && !errors.Is(err, fs.ErrExist) && errors.As(err, &le) {
			// A file system without hard links: exclusive creation
			// instead, which a reader can catch half-written (it then
			// reports an unreadable lock rather than taking it).
			err = createExclusive(path, body)
		}
	}
	os.Remove(tmp.Name())
	return err
}

func createExclusive(path string, body []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// read returns the holder in a lock file and its raw bytes.
func read(path string) (Holder, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return Holder{}, nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxLockBytes+1))
	if err != nil {
		return Holder{}, nil, err
	}
	if len(raw) > maxLockBytes {
		return Holder{}, nil, fmt.Errorf("lock file longer than %d bytes", maxLockBytes)
	}
	var h Holder
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return Holder{}, nil, err
	}
	if h.PID <= 0 || h.Host == "" {
		return Holder{}, nil, fmt.Errorf("lock names process %d on host %q", h.PID, h.Host)
	}
	return h, raw, nil
}

// takeStale moves the stale lock (whose bytes were raw) out of the way. If
// what it moved is not that lock, another run took over first and what was
// moved is that run's fresh lock: it is put back.
func takeStale(path string, raw []byte) error {
	aside := fmt.Sprintf("%s.stale.%d", path, os.Getpid())
	if err := os.Rename(path, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // someone else moved it; the next create decides
		}
		return fmt.Errorf("outlock: taking over %s: %w", path, err)
	}
	got, err := os.ReadFile(aside)
	if err == nil && !bytes.Equal(got, raw) {
		os.Link(aside, path) // fails only if yet another lock is there
		os.Remove(aside)
		return fmt.Errorf("%w: %s was taken over by another run at the same time", ErrLocked, path)
	}
	os.Remove(aside)
	return nil
}
