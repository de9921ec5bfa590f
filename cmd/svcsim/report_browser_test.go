package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/sim"
)

// browser returns the path of a Chromium (or Chrome) to run headless,
// or "" when none is installed.
func browser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// imageStats returns the standard deviation of an image's luminance (0
// to 255), the share of its pixels that are not near-white, and the
// share that are coloured (not grey).
func imageStats(img image.Image) (sd, inked, coloured float64) {
	b := img.Bounds()
	var n, sum, sq, ink, col float64
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			r8, g8, b8 := float64(r>>8), float64(g>>8), float64(bl>>8)
			l := 0.299*r8 + 0.587*g8 + 0.114*b8
			n++
			sum += l
			sq += l * l
			if l < 235 {
				ink++
			}
			if max(r8, g8, b8)-min(r8, g8, b8) > 60 {
				col++
			}
		}
	}
	mean := sum / n
	return math.Sqrt(max(0, sq/n-mean*mean)), ink / n, col / n
}

// TestReportInBrowser opens report.html of a shipped scenario in
// headless Chromium, as a reader would, and checks what it shows: the
// sections are in the DOM, every SVG is laid out at a real size, the
// page does not scroll sideways, and screenshots of the page and of the
// "why" section are not blank (their luminance varies, some of it in
// colour). It skips when no Chromium is installed, unless
// SVCNET_REQUIRE_BROWSER=1 (set by .ci/run), where that is a failure.
// Every browser step is bounded by one 60 s context.
func TestReportInBrowser(t *testing.T) {
	exe := browser()
	if exe == "" {
		if os.Getenv("SVCNET_REQUIRE_BROWSER") == "1" {
			t.Fatal("no chromium, chromium-browser or google-chrome in $PATH, and SVCNET_REQUIRE_BROWSER=1 (install it: apt-get install chromium)")
		}
		t.Skip("no chromium, chromium-browser or google-chrome in $PATH: install one (apt-get install chromium) to look at report.html in a browser")
	}
	s, err := sim.ReadScenarioFiles(filepath.Join("..", "..", "examples", "scenarios", "node-failure.yaml"))
	require.NoError(t, err)
	r := reportOf(t, s, 2)
	page, err := renderHTML(&r)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "report.html")
	require.NoError(t, os.WriteFile(path, page, 0o644))

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.WindowSize(1200, 900),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("file://"+path), chromedp.WaitReady(chromedp.CSS("#scenario"))))
	sections := evaluate[[]string](t, bctx, `[...document.querySelectorAll("section[id]")].map(s => s.id)`)
	svgs := evaluate[int](t, bctx, `document.querySelectorAll("svg").length`)
	tiny := evaluate[int](t, bctx, `[...document.querySelectorAll("svg")].filter(s => { const r = s.getBoundingClientRect(); return r.width < 200 || r.height < 50 }).length`)
	scrollWidth := evaluate[int](t, bctx, `document.documentElement.scrollWidth`)
	innerWidth := evaluate[int](t, bctx, `window.innerWidth`)
	whyTitles := evaluate[[]string](t, bctx, `[...document.querySelectorAll("#why h3")].map(h => h.textContent)`)
	full, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	why, err := chromedp.Run(bctx, chromedp.Screenshot(chromedp.CSS("#why")))
	require.NoError(t, err)
	require.Equal(t, reportSections, sections, "the sections, in order")
	require.Equal(t, len(splitSVGs(string(page))), svgs, "every SVG is in the DOM")
	require.Zero(t, tiny, "every SVG is laid out at a readable size")
	require.LessOrEqual(t, scrollWidth, innerWidth, "the page does not scroll sideways (wide tables scroll in their box)")
	require.Equal(t, []string{"baseline"}, whyTitles, "the one variant failed connections")

	for name, shot := range map[string][]byte{"page": full, "#why": why} {
		img, err := png.Decode(bytes.NewReader(shot))
		require.NoError(t, err, name)
		b := img.Bounds()
		sd, inked, coloured := imageStats(img)
		t.Logf("%s: %dx%d, luminance sd %.1f, %.1f%% inked, %.2f%% coloured", name, b.Dx(), b.Dy(), sd, 100*inked, 100*coloured)
		require.GreaterOrEqual(t, b.Dx(), 900, name)
		require.Greater(t, b.Dy(), 900, name)
		require.Greater(t, sd, 15.0, "%s is not blank", name)
		require.Greater(t, inked, 0.02, "%s has text and lines", name)
		require.Less(t, inked, 0.7, "%s is not a dark block", name)
		require.Greater(t, coloured, 0.002, "%s shows the plots' colours", name)
	}
	if dir := os.Getenv("SVCNET_SCREENSHOTS"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "report.png"), full, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "why.png"), why, 0o644))
	}
	require.True(t, strings.HasPrefix(string(page), "<!DOCTYPE html>"))
}

// evaluate runs a JavaScript expression in the page and returns its value.
func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}
