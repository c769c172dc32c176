// sleepers: 1M goroutines parked at once in time.Sleep; the figure is the
// process's peak RSS. Each sleeps for a second, again and again until main
// has started all of them, so all 1M are alive together however long the
// spawning takes. Prints the sum of their results.
package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

const tasks = 1000000

var allStarted atomic.Bool

func main() {
	results := make([]int64, tasks)
	var wg sync.WaitGroup
	wg.Add(tasks)
	for i := 0; i < tasks; i++ {
		go func(i int64) {
			for {
				time.Sleep(1000 * time.Millisecond)
				if allStarted.Load() {
					break
				}
			}
			results[i] = i % 7
			wg.Done()
		}(int64(i))
	}
	allStarted.Store(true)
	wg.Wait()
	var sum int64
	for _, r := range results {
		sum += r
	}
	fmt.Println(sum)
}
