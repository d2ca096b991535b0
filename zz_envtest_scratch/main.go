package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"aviary.dev/aviary/sim"
)

func main() {
	ctx := context.Background()
	env, err := sim.StartEnvtest(ctx, sim.EnvtestOptions{})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(2)
	}
	defer env.Stop()
	fmt.Println("startup", env.Startup, env.AssetsDir)
	files, _ := filepath.Glob("scenarios/*.yaml")
	for _, f := range files {
		l, err := sim.LoadFile(f)
		if err != nil {
			fmt.Println(f, err)
			continue
		}
		fast, err := sim.Run(ctx, l, sim.RunOptions{})
		if err != nil {
			fmt.Println(f, "fast", err)
			continue
		}
		t0 := time.Now()
		o := env.RunOptions(l)
		cc := &counting{Client: o.Client, n: map[string]int{}, d: map[string]time.Duration{}}
		o.Client = cc
		et, err := sim.Run(ctx, l, o)
		d := time.Since(t0)
		var tot time.Duration
		var n int
		for k, v := range cc.n { tot += cc.d[k]; n += v }
		fmt.Println("  requests", n, tot)
		for k, v := range cc.n { fmt.Printf("    %-40s %4d %v\n", k, v, cc.d[k]/time.Duration(v)) }
		if err != nil {
			fmt.Println(f, "envtest", err)
			continue
		}
		same := "SAME"
		for i := range fast.Ticks {
			if i >= len(et.Ticks) {
				same = "SHORT"
				break
			}
			a, _ := json.Marshal(fast.Ticks[i])
			b, _ := json.Marshal(et.Ticks[i])
			if string(a) != string(b) {
				same = fmt.Sprintf("DIFF tick %d\n fast %s\n env  %s", i, a, b)
				break
			}
		}
		if len(et.Ticks) != len(fast.Ticks) {
			same += fmt.Sprintf(" len %d vs %d", len(fast.Ticks), len(et.Ticks))
		}
		fmt.Printf("%s %v passed=%v/%v %s\n", f, d, fast.Passed, et.Passed, same)
	}
}
