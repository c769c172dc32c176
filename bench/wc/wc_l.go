// `wc -l` with bufio.Scanner over stdin, as wc_l.weft.
package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	s := bufio.NewScanner(os.Stdin)
	s.Buffer(make([]byte, 1<<20), 1<<30)
	n := 0
	for s.Scan() {
		n++
	}
	fmt.Println(n)
}
