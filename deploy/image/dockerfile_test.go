package image_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/deploy/image"
	"aviary.dev/aviary/version"
)

// dockerfile is what the test reads of the Dockerfile: each stage's instructions
// ("RUN ...", in order) and the final stage's run configuration.
type dockerfile struct {
	stages [][]string
	config v1.Config
}

// parseDockerfile reads the instructions the Dockerfile uses (one a line, no
// continuations), JSON-form ENTRYPOINT, and LABEL and ENV as key=value, the
// value double-quoted or bare.
func parseDockerfile(path string) (dockerfile, error) {
	f, err := os.Open(path)
	if err != nil {
		return dockerfile{}, err
	}
	defer func() { _ = f.Close() }()
	var df dockerfile
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if strings.HasSuffix(text, `\`) {
			return df, fmt.Errorf("%s:%d: continuation lines are not read by this test", path, line)
		}
		instr, arg, _ := strings.Cut(text, " ")
		if instr == "FROM" {
			df.stages = append(df.stages, nil)
			df.config = v1.Config{}
		}
		if len(df.stages) == 0 {
			return df, fmt.Errorf("%s:%d: %s before FROM", path, line, instr)
		}
		df.stages[len(df.stages)-1] = append(df.stages[len(df.stages)-1], text)
		c := &df.config
		switch instr {
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(arg), &c.Entrypoint); err != nil {
				return df, fmt.Errorf("%s:%d: ENTRYPOINT: %w", path, line, err)
			}
		case "USER":
			c.User = arg
		case "WORKDIR":
			c.WorkingDir = arg
		case "ENV", "LABEL":
			k, v, ok := strings.Cut(arg, "=")
			if !ok {
				return df, fmt.Errorf("%s:%d: %s: want key=value", path, line, instr)
			}
			if uq, err := strconv.Unquote(v); err == nil {
				v = uq
			}
			if instr == "ENV" {
				c.Env = append(c.Env, k+"="+v)
			} else {
				if c.Labels == nil {
					c.Labels = map[string]string{}
				}
				c.Labels[k] = v
			}
		}
	}
	return df, sc.Err()
}

// shellLine is env and `go` args as a shell command, an argument with spaces
// double-quoted.
func shellLine(env, args []string) string {
	words := append(append([]string{}, env...), "go")
	for _, a := range args {
		if strings.Contains(a, " ") {
			a = `"` + a + `"`
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

var _ = Describe("the Dockerfile", func() {
	var df dockerfile
	BeforeEach(func() {
		var err error
		df, err = parseDockerfile(filepath.Join(moduleRoot, "Dockerfile"))
		Expect(err).NotTo(HaveOccurred())
		Expect(df.stages).To(HaveLen(2), "a build stage and the image")
	})

	It("builds the binary as the daemonless image does, for the target platform, with the commit from --build-arg", func() {
		env, args := image.GoBuild("${COMMIT}", "/out/aviary", "${TARGETARCH}")
		Expect(df.stages[0]).To(ContainElements(
			HavePrefix("FROM --platform=$BUILDPLATFORM golang:1.26 "),
			"ARG TARGETARCH", "ARG COMMIT="+version.Unknown,
			"RUN "+shellLine(env, args)))
	})

	It("runs it as the daemonless image does: distroless static as non-root, the same entrypoint, directory, environment and labels", func() {
		Expect(df.stages[1]).To(ContainElements(
			"FROM gcr.io/distroless/static:nonroot", "ARG COMMIT="+version.Unknown,
			"COPY --from=build /out/aviary "+image.Binary))
		Expect(df.config).To(Equal(image.Config("${COMMIT}")))
	})

	It("would notice a difference", func() {
		path := filepath.Join(GinkgoT().TempDir(), "Dockerfile")
		Expect(os.WriteFile(path, []byte("FROM scratch\nUSER 0\nENTRYPOINT [\"/aviary\"]\nLABEL a=\"b c\"\n"), 0o644)).To(Succeed())
		other, err := parseDockerfile(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(other.config).To(Equal(v1.Config{User: "0", Entrypoint: []string{"/aviary"}, Labels: map[string]string{"a": "b c"}}))
		Expect(other.config).NotTo(Equal(image.Config("${COMMIT}")))
	})
})
