package reports_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/net/html"

	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim/scenario"
)

// The real-browser check: headless Chromium loads reports from disk, dumps the DOM
// and takes screenshots. The test never installs a browser: it uses $CHROMIUM, or
// the first of chromiumNames on $PATH. `make browser` (hack/chromium/install.sh)
// installs one, and `make test` depends on it and sets AVIARY_REQUIRE_BROWSER=1, so
// there a missing browser fails the test; elsewhere (plain `go test`) it is skipped
// with a message that says how to run it.
// Set AVIARY_SCREENSHOT_DIR to keep the screenshots and pages.
var _ = Describe("the HTML report in a real browser", Ordered, func() {
	var chromium, dir string

	BeforeAll(func() {
		var missing string
		chromium, missing = findChromium()
		if chromium == "" {
			if os.Getenv("AVIARY_REQUIRE_BROWSER") == "1" {
				Fail(fmt.Sprintf("headless Chromium is required (AVIARY_REQUIRE_BROWSER=1, set by `make test`) but %s; "+
					"`make browser` (hack/chromium/install.sh) installs it as root with apt-get, or says what to install", missing))
			}
			msg := fmt.Sprintf("no headless Chromium: %s; run `make browser` (installs Debian's chromium as root, or says what to install) "+
				"and rerun, or run `make test`, or set CHROMIUM to a Chromium or Chrome binary", missing)
			// Ginkgo shows a Skip message only with -ginkgo.v; this line shows with go test -v.
			fmt.Fprintf(os.Stderr, "\nreports: skipping the real-browser check: %s\n", msg)
			Skip(msg)
		}
		GinkgoWriter.Printf("browser: %s\n", chromium)
		dir = os.Getenv("AVIARY_SCREENSHOT_DIR")
		if dir == "" {
			dir = GinkgoT().TempDir()
		}
		Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	})

	// browse runs headless Chromium on a page file with extra arguments and returns
	// its standard output and wall time.
	browse := func(ctx context.Context, page string, args ...string) ([]byte, time.Duration) {
		profile := GinkgoT().TempDir()
		full := append([]string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=" + profile,
		}, args...)
		full = append(full, "file://"+page)
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, full...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		Expect(err).NotTo(HaveOccurred(), "chromium %s:\n%s", strings.Join(full, " "), stderr.String())
		return stdout.Bytes(), took
	}

	// writePage renders results to dir/name, with a probe that records in the DOM how
	// long the page took to parse, style and lay out (performance.now() after a
	// forced layout, from navigation start).
	writePage := func(name string, results []*scenario.Result) string {
		var buf bytes.Buffer
		Expect(reports.WriteHTML(&buf, results, reports.HTMLOptions{})).To(Succeed())
		probe := `<script>document.body.offsetHeight;document.documentElement.setAttribute("data-render-ms", String(Math.round(performance.now())));</script></body>`
		page := strings.Replace(buf.String(), "</body>", probe, 1)
		path, err := filepath.Abs(filepath.Join(dir, name))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(path, []byte(page), 0o644)).To(Succeed())
		return path
	}

	// screenshot takes a screenshot of page and checks that it is not blank.
	screenshot := func(ctx context.Context, page, png string, width, height int) {
		_, took := browse(ctx, page, "--screenshot="+png, fmt.Sprintf("--window-size=%d,%d", width, height))
		f, err := os.Open(png)
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = f.Close() }()
		img, err := pngDecode(f)
		Expect(err).NotTo(HaveOccurred())
		b := img.Bounds()
		Expect(b.Dx()).To(Equal(width))
		Expect(b.Dy()).To(Equal(height))
		inked := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
					inked++
				}
			}
		}
		share := float64(inked) / float64(b.Dx()*b.Dy())
		AddReportEntry("screenshot "+png, fmt.Sprintf("%.1f%% non-white pixels, taken in %v", 100*share, took.Round(time.Millisecond)))
		GinkgoWriter.Printf("screenshot %s: %.1f%% non-white pixels\n", png, 100*share)
		Expect(share).To(BeNumerically(">", 0.03), "the screenshot is (nearly) blank")
	}

	It("renders the whole suite's report: title, every chart, a non-blank page", func(ctx SpecContext) {
		results := suite()
		page := writePage("suite.html", results)

		dom, took := browse(ctx, page, "--dump-dom")
		doc, err := html.Parse(bytes.NewReader(dom))
		Expect(err).NotTo(HaveOccurred())
		Expect(textOf(findAll(doc, elem("title"))[0])).To(Equal("aviary report"))
		charts := 0
		for _, r := range results {
			charts += 1 + len(metricsOf(r))
		}
		Expect(findAll(doc, elem("svg", "chart"))).To(HaveLen(charts))
		Expect(findAll(doc, elem("details", "scenario"))).To(HaveLen(len(results)))
		// The browser parsed the gonum SVG as SVG: its drawing elements are in the DOM.
		Expect(len(findAll(doc, elem("path")))).To(BeNumerically(">", charts*10))

		renderMs := regexp.MustCompile(`data-render-ms="(\d+)"`).FindSubmatch(dom)
		Expect(renderMs).NotTo(BeNil(), "the page's script did not run")
		_, baseline := browse(ctx, writeBlank(dir), "--dump-dom")
		info, err := os.Stat(page)
		Expect(err).NotTo(HaveOccurred())
		msg := fmt.Sprintf("suite report (%d scenarios, %d charts, %d bytes): parse+style+layout %s ms in the page; --dump-dom wall time %v (a blank page: %v, so about %v for the report)",
			len(results), charts, info.Size(), renderMs[1], took.Round(time.Millisecond), baseline.Round(time.Millisecond), (took - baseline).Round(time.Millisecond))
		AddReportEntry("browser render time", msg)
		GinkgoWriter.Println(msg)

		screenshot(ctx, page, filepath.Join(dir, "suite.png"), 1280, 2000)
	}, NodeTimeout(5*time.Minute))

	It("is readable 400 px wide: nothing but wide tables and queries scrolls sideways, inside their own boxes", func(ctx SpecContext) {
		writePage("narrow-suite.html", suite())
		// Headless Chromium will not make a window narrower than 500 px, so the report
		// is measured in a 400-px frame of a page of its own (same directory: the
		// frame's document is readable with --allow-file-access-from-files), every
		// scenario opened.
		frame, err := filepath.Abs(filepath.Join(dir, "narrow.html"))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(frame, []byte(`<!DOCTYPE html><html><head><style>body{margin:0} iframe{border:0;width:400px;height:1600px;display:block}</style></head>
<body><iframe id="f" src="narrow-suite.html"></iframe><script>
var f = document.getElementById("f");
f.addEventListener("load", function () {
  var d = f.contentDocument;
  d.querySelectorAll("details").forEach(function (x) { x.open = true; });
  var root = document.documentElement;
  root.setAttribute("data-viewport", String(f.contentWindow.innerWidth));
  root.setAttribute("data-scroll-width", String(Math.max(d.documentElement.scrollWidth, d.body.scrollWidth)));
  root.setAttribute("data-details", String(d.querySelectorAll("details[open]").length));
});
</script></body></html>`), 0o644)).To(Succeed())
		dom, _ := browse(ctx, frame, "--allow-file-access-from-files", "--window-size=500,1600", "--dump-dom")
		attr := func(name string) int {
			m := regexp.MustCompile(name + `="(\d+)"`).FindSubmatch(dom)
			Expect(m).NotTo(BeNil(), "the probe did not run: no %s", name)
			n, err := strconv.Atoi(string(m[1]))
			Expect(err).NotTo(HaveOccurred())
			return n
		}
		Expect(attr("data-viewport")).To(Equal(400), "the report was laid out 400 px wide")
		Expect(attr("data-details")).To(Equal(len(suite())), "every scenario open")
		width := attr("data-scroll-width")
		AddReportEntry("400-px layout", fmt.Sprintf("document scroll width %d px in a 400-px viewport", width))
		Expect(width).To(BeNumerically("<=", 400), "the page scrolls sideways at 400 px")
		screenshot(ctx, frame, filepath.Join(dir, "narrow.png"), 500, 1600)
	}, NodeTimeout(5*time.Minute))

	It("renders the NaN-division report with its NaN markers", func(ctx SpecContext) {
		page := writePage("user-profile-nan-division.html", []*scenario.Result{find(library, "user-profile-nan-division")})
		dom, _ := browse(ctx, page, "--dump-dom")
		doc, err := html.Parse(bytes.NewReader(dom))
		Expect(err).NotTo(HaveOccurred())
		Expect(findAll(doc, elem("svg", "chart"))).To(HaveLen(3))
		Expect(textOf(findAll(doc, elem("div", "callout"))[0])).To(ContainSubstring("legacy-read-ratio returned NaN (treated as no data) at 4m, 5m, 6m"))
		screenshot(ctx, page, filepath.Join(dir, "user-profile-nan-division.png"), 1280, 2400)
	}, NodeTimeout(5*time.Minute))
})

var pngDecode = png.Decode

// chromiumNames are the browser commands looked up on $PATH, in hack/chromium/install.sh's order.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"}

// findChromium returns the browser to use: $CHROMIUM when it is set (and an
// executable file), else the first of chromiumNames on $PATH. When there is none it
// returns "" and what was looked for.
func findChromium() (path, missing string) {
	if c := os.Getenv("CHROMIUM"); c != "" {
		if info, err := os.Stat(c); err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			return "", fmt.Sprintf("CHROMIUM=%s is not an executable file", c)
		}
		return c, ""
	}
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, ""
		}
	}
	return "", fmt.Sprintf("none of %s is on $PATH and CHROMIUM is not set", strings.Join(chromiumNames, ", "))
}

// writeBlank writes an empty page, to time the browser's own start and stop.
func writeBlank(dir string) string {
	path, err := filepath.Abs(filepath.Join(dir, "blank.html"))
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(path, []byte("<!DOCTYPE html><title>blank</title>"), 0o644)).To(Succeed())
	return path
}
