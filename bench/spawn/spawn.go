// spawn: spawn 1M trivial goroutines and wait for them with a WaitGroup;
// prints the sum of their results.
package main

import (
	"fmt"
	"sync"
)

const tasks = 1000000

func main() {
	results := make([]int64, tasks)
	var wg sync.WaitGroup
	wg.Add(tasks)
	for i := 0; i < tasks; i++ {
		go func(i int64) {
			results[i] = i ^ (i >> 3)
			wg.Done()
		}(int64(i))
	}
	wg.Wait()
	var sum int64
	for _, r := range results {
		sum += r
	}
	fmt.Println(sum)
}
