// reverse-complement of the Benchmarks Game, single-threaded Go peer for
// bench/run.py: the same algorithm as revcomp.weft.
package main

import (
	"bufio"
	"io"
	"os"
)

func main() {
	in, _ := io.ReadAll(bufio.NewReaderSize(os.Stdin, 1<<20))
	var table [256]byte
	for i := range table {
		table[i] = byte(i)
	}
	from, to := "ACGTUMRWSYKVHDBN", "TGCAAKYWSRMBDHVN"
	for i := 0; i < len(from); i++ {
		table[from[i]] = to[i]
		table[from[i]|32] = to[i]
	}
	n := len(in)
	out := make([]byte, 0, n+n/60+64)
	i := 0
	for i < n {
		header := i
		for i < n && in[i] != '\n' {
			i++
		}
		end := n
		if i < n {
			end = i + 1
		}
		out = append(out, in[header:end]...)
		if i >= n && in[n-1] != '\n' {
			out = append(out, '\n')
		}
		i++
		start := i
		for i < n && in[i] != '>' {
			i++
		}
		col := 0
		for j := i - 1; j >= start; j-- {
			b := in[j]
			if b == '\n' {
				continue
			}
			out = append(out, table[b])
			col++
			if col == 60 {
				out = append(out, '\n')
				col = 0
			}
		}
		if col > 0 {
			out = append(out, '\n')
		}
	}
	os.Stdout.Write(out)
}
