package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/sim"
)

// TestRealReportInBrowser opens report.html of a -real run (a shipped
// scenario's prediction, a measurement made of it) in headless
// Chromium: the measured section is laid out after the summary, its
// overlay at a readable size and not blank, and the page does not scroll
// sideways. It skips without Chromium as TestReportInBrowser does.
func TestRealReportInBrowser(t *testing.T) {
	exe := browser()
	if exe == "" {
		if os.Getenv("SVCNET_REQUIRE_BROWSER") == "1" {
			t.Fatal("no chromium, chromium-browser or google-chrome in $PATH, and SVCNET_REQUIRE_BROWSER=1 (install it: apt-get install chromium)")
		}
		t.Skip("no chromium, chromium-browser or google-chrome in $PATH: install one (apt-get install chromium) to look at report.html in a browser")
	}
	s, err := sim.ReadScenarioFiles(filepath.Join("..", "..", "examples", "scenarios", "node-failure.yaml"))
	require.NoError(t, err)
	pred, err := sim.Run(s)
	require.NoError(t, err)
	meas := pred
	for i := range meas.Timeline {
		meas.Timeline[i].Outcomes.Served = meas.Timeline[i].Outcomes.Served * 9 / 10
	}
	page, err := renderRealHTML(&s, 0.5, []realRun{{Variant: baseline, Predicted: pred, Measured: meas}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "report.html")
	require.NoError(t, os.WriteFile(path, page, 0o644))

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.WindowSize(1200, 900),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("file://"+path), chromedp.WaitReady(chromedp.CSS("#scenario"))))
	sections := evaluate[[]string](t, bctx, `[...document.querySelectorAll("section[id]")].map(s => s.id)`)
	overlays := evaluate[int](t, bctx, `[...document.querySelectorAll("#measured svg")].filter(s => { const r = s.getBoundingClientRect(); return r.width >= 600 && r.height >= 150 }).length`)
	scrollWidth := evaluate[int](t, bctx, `document.documentElement.scrollWidth`)
	innerWidth := evaluate[int](t, bctx, `window.innerWidth`)
	shot, err := chromedp.Run(bctx, chromedp.Screenshot(chromedp.CSS("#measured")))
	require.NoError(t, err)
	require.Equal(t, append([]string{reportSections[0], "measured"}, reportSections[1:]...), sections)
	require.Equal(t, 1, overlays, "the overlay is laid out at a readable size")
	require.LessOrEqual(t, scrollWidth, innerWidth, "the page does not scroll sideways")
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err)
	sd, inked, coloured := imageStats(img)
	t.Logf("#measured: %v, luminance sd %.1f, %.1f%% inked, %.2f%% coloured", img.Bounds().Size(), sd, 100*inked, 100*coloured)
	require.Greater(t, sd, 15.0, "not blank")
	require.Greater(t, inked, 0.02, "text and lines")
	require.Greater(t, coloured, 0.002, "the lines' colours")
}
