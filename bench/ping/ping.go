// ping: 1M messages between two goroutines over unbuffered channels, 500k
// each way: main sends i on ping, the other answers i + 1 on pong.
package main

import "fmt"

const rounds = 500000

func main() {
	ping := make(chan int64)
	pong := make(chan int64)
	done := make(chan struct{})
	go func() {
		for n := 0; n < rounds; n++ {
			v := <-ping
			pong <- v + 1
		}
		close(done)
	}()
	var sum int64
	for i := int64(0); i < rounds; i++ {
		ping <- i
		sum += <-pong
	}
	<-done
	fmt.Println(sum)
}
