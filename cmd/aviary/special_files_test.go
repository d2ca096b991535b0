package main

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Only regular files are read: a named pipe would block the reader until someone
// writes to it, a socket cannot be read as a file, a device is no file of aviary's.
var _ = Describe("files that are not regular files", func() {
	var dir string

	// mkfifo makes a named pipe, and sees to it that a reader a regression left
	// waiting on it is released when the test ends.
	mkfifo := func(path string) string {
		Expect(syscall.Mkfifo(path, 0o644)).To(Succeed())
		DeferCleanup(func() {
			if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				_ = f.Close()
			}
		})
		return path
	}
	// mksocket makes a unix socket, listening until the test ends.
	mksocket := func(path string) string {
		l, err := net.Listen("unix", path)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(l.Close)
		return path
	}
	// invokePromptly runs the CLI, failing the test (instead of hanging it) when the
	// CLI blocks; the bound is a hang detector, not a performance figure.
	invokePromptly := func(args ...string) cliResult {
		GinkgoHelper()
		done := make(chan cliResult, 1)
		go func() {
			defer GinkgoRecover()
			done <- invokeCLI(args...)
		}()
		var res cliResult
		Eventually(done).WithTimeout(30*time.Second).Should(Receive(&res), "aviary %v blocked", args)
		return res
	}

	BeforeEach(func() {
		// Unix socket paths are short (108 bytes): a temporary directory of its own.
		var err error
		dir, err = os.MkdirTemp("", "aviary")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(os.RemoveAll, dir)
	})

	type special struct {
		// args are the CLI's; make makes the special files in dir and returns the
		// path the message must name.
		args func() []string
		make func() string
		what string
	}
	DescribeTable("exit 2 at once, naming the path and what it is",
		func(c special) {
			path := c.make()
			res := invokePromptly(c.args()...)
			Expect(res.code).To(Equal(exitInvalid), "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
			Expect(res.stdout).To(BeEmpty())
			Expect(res.stderr).To(ContainSubstring(path + ": " + c.what + ", not a regular file"))
			Expect(res.stderr).NotTo(ContainSubstring("goroutine "))
		},
		Entry("aviary test of a named pipe", special{
			make: func() string { return mkfifo(filepath.Join(dir, "x.yaml")) },
			args: func() []string { return []string{"test", filepath.Join(dir, "x.yaml")} },
			what: "a named pipe",
		}),
		Entry("aviary test of a directory holding a named pipe", special{
			make: func() string { return mkfifo(filepath.Join(dir, "x.yaml")) },
			args: func() []string { return []string{"test", dir} },
			what: "a named pipe",
		}),
		Entry("aviary test of a unix socket", special{
			make: func() string { return mksocket(filepath.Join(dir, "s.yaml")) },
			args: func() []string { return []string{"test", filepath.Join(dir, "s.yaml")} },
			what: "a socket",
		}),
		Entry("aviary test of a directory holding a unix socket", special{
			make: func() string { return mksocket(filepath.Join(dir, "s.yaml")) },
			args: func() []string { return []string{"test", dir} },
			what: "a socket",
		}),
		Entry("aviary run of a device", special{
			make: func() string { return os.DevNull },
			args: func() []string { return []string{"run", os.DevNull} },
			what: "a character device",
		}),
		Entry("a scenario whose policy file is a named pipe", special{
			make: func() string {
				Expect(os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(`apiVersion: aviary.dev/v1alpha1
kind: Scenario
metadata: {name: piped}
spec:
  policy: {files: [p.yaml]}
`), 0o644)).To(Succeed())
				return mkfifo(filepath.Join(dir, "p.yaml"))
			},
			args: func() []string { return []string{"test", filepath.Join(dir, "s.yaml")} },
			what: "a named pipe",
		}),
		Entry("aviary convert of a named pipe", special{
			make: func() string { return mkfifo(filepath.Join(dir, "old.yaml")) },
			args: func() []string { return []string{"convert", filepath.Join(dir, "old.yaml")} },
			what: "a named pipe",
		}),
		Entry("aviary report of a named pipe", special{
			make: func() string { return mkfifo(filepath.Join(dir, "results.json")) },
			args: func() []string {
				return []string{"report", filepath.Join(dir, "results.json"), "-o", filepath.Join(dir, "r.html")}
			},
			what: "a named pipe",
		}),
		Entry("aviary report of a unix socket", special{
			make: func() string { return mksocket(filepath.Join(dir, "results.json")) },
			args: func() []string {
				return []string{"report", filepath.Join(dir, "results.json"), "-o", filepath.Join(dir, "r.html")}
			},
			what: "a socket",
		}),
	)

	It("names the policy file's field and line when the policy file is a named pipe", func() {
		Expect(os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(`apiVersion: aviary.dev/v1alpha1
kind: Scenario
metadata: {name: piped}
spec:
  policy:
    files: [p.yaml]
`), 0o644)).To(Succeed())
		pipe := mkfifo(filepath.Join(dir, "p.yaml"))
		res := invokePromptly("test", filepath.Join(dir, "s.yaml"))
		Expect(res.code).To(Equal(exitInvalid))
		Expect(res.stderr).To(Equal(`aviary: scenario "piped": ` + filepath.Join(dir, "s.yaml") + ":6: spec.policy.files[0]: policy file " +
			pipe + ": a named pipe, not a regular file\n"))
	})
})
