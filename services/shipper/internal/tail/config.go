package tail

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// Config says which files to read and how. Every field documents its
// default (what DefaultConfig sets) and unit.
type Config struct {
	// Include lists glob patterns (path/filepath.Match syntax) of files to
	// read. Default ["/var/log/containers/*.log"].
	Include []string
	// Exclude lists glob patterns matched against the full path of each
	// included file (before resolving symlinks); a match skips the file.
	// Default none.
	Exclude []string
	// Roots lists directories that a file, after resolving symlinks, must
	// be inside; anything else is refused so that a crafted symlink cannot
	// make the shipper read /etc/shadow. Default ["/var/log/pods",
	// "/var/log/containers"].
	Roots []string
	// PollInterval is how often the globs are re-evaluated and idle files
	// re-checked for growth, rotation and truncation. Default 250ms.
	PollInterval time.Duration
	// MaxEventBytes caps one event's content; longer events are cut and
	// marked Truncated. It also bounds the bytes buffered per stream while
	// joining partial lines. Default 1 MiB.
	MaxEventBytes int
	// ReadBufferBytes is the chunk read from one file before moving on to
	// the next (fairness), and the initial per-file buffer. Default 64 KiB.
	ReadBufferBytes int
	// MaxOpenFiles bounds open descriptors; files beyond it wait until
	// others close. 0 means no limit. Default 1024.
	MaxOpenFiles int
	// FingerprintBytes caps how much of a file's first line identifies it
	// (see the package documentation). Default 1024 bytes. Changing it
	// changes every fingerprint: all files are then re-read from offset 0
	// of their current data (duplicates, not loss).
	FingerprintBytes int
	// DeletedGrace keeps a deleted or rotated file open this long after its
	// last byte was read, for writes that race the rotation. Default 5s.
	DeletedGrace time.Duration
	// CheckpointInterval is how often acknowledged offsets are saved to the
	// checkpoint store. Default 1s.
	CheckpointInterval time.Duration
	// MaxDecompressedBytes bounds what is read from one rotated .gz file, so
	// a compression bomb cannot spin forever; the rest of such a file is
	// skipped and counted. Default 4 GiB.
	MaxDecompressedBytes int64
	// ForgetAfter drops checkpoint entries of files that are no longer
	// being read and were last updated longer ago than this. Default 24h.
	ForgetAfter time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Include:              []string{"/var/log/containers/*.log"},
		Roots:                []string{"/var/log/pods", "/var/log/containers"},
		PollInterval:         250 * time.Millisecond,
		MaxEventBytes:        1 << 20,
		ReadBufferBytes:      64 << 10,
		MaxOpenFiles:         1024,
		FingerprintBytes:     1024,
		DeletedGrace:         5 * time.Second,
		CheckpointInterval:   time.Second,
		MaxDecompressedBytes: 4 << 30,
		ForgetAfter:          24 * time.Hour,
	}
}

// Validate reports every invalid setting, each naming its key
// (e.g. "tail.include[1]: bad glob pattern \"[\"").
func (c Config) Validate() error {
	var errs []error
	if len(c.Include) == 0 {
		errs = append(errs, errors.New("tail.include: at least one pattern is required"))
	}
	for i, p := range c.Include {
		if err := checkGlob(p); err != nil {
			errs = append(errs, fmt.Errorf("tail.include[%d]: %w", i, err))
		}
	}
	for i, p := range c.Exclude {
		if err := checkGlob(p); err != nil {
			errs = append(errs, fmt.Errorf("tail.exclude[%d]: %w", i, err))
		}
	}
	if len(c.Roots) == 0 {
		errs = append(errs, errors.New("tail.roots: at least one directory is required"))
	}
	for i, r := range c.Roots {
		if !filepath.IsAbs(r) {
			errs = append(errs, fmt.Errorf("tail.roots[%d]: %q is not an absolute path", i, r))
		}
	}
	pos := func(key string, v int64) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("tail.%s: must be positive, got %d", key, v))
		}
	}
	pos("poll_interval", int64(c.PollInterval))
	pos("max_event_bytes", int64(c.MaxEventBytes))
	pos("read_buffer_bytes", int64(c.ReadBufferBytes))
	pos("fingerprint_bytes", int64(c.FingerprintBytes))
	pos("checkpoint_interval", int64(c.CheckpointInterval))
	pos("max_decompressed_bytes", c.MaxDecompressedBytes)
	if c.MaxOpenFiles < 0 {
		errs = append(errs, fmt.Errorf("tail.max_open_files: must not be negative, got %d", c.MaxOpenFiles))
	}
	if c.DeletedGrace < 0 {
		errs = append(errs, fmt.Errorf("tail.deleted_grace: must not be negative, got %s", c.DeletedGrace))
	}
	if c.ForgetAfter < 0 {
		errs = append(errs, fmt.Errorf("tail.forget_after: must not be negative, got %s", c.ForgetAfter))
	}
	if c.FingerprintBytes > 1<<20 {
		errs = append(errs, fmt.Errorf("tail.fingerprint_bytes: at most 1 MiB, got %d", c.FingerprintBytes))
	}
	return errors.Join(errs...)
}

func checkGlob(p string) error {
	if p == "" {
		return errors.New("empty pattern")
	}
	if _, err := filepath.Match(p, ""); err != nil {
		return fmt.Errorf("bad glob pattern %q", p)
	}
	return nil
}
