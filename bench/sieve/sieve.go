// sieve: the concurrent prime sieve from the Go documentation, to the
// 5,000th prime; prints the last prime. GOMAXPROCS is left at its default.
package main

import "fmt"

func generate(ch chan<- int) {
	for i := 2; ; i++ {
		ch <- i
	}
}

func filter(in <-chan int, out chan<- int, prime int) {
	for {
		i := <-in
		if i%prime != 0 {
			out <- i
		}
	}
}

func main() {
	n := 5000
	ch := make(chan int)
	go generate(ch)
	prime := 0
	for k := 0; k < n; k++ {
		prime = <-ch
		next := make(chan int)
		go filter(ch, next, prime)
		ch = next
	}
	fmt.Println(prime)
}
