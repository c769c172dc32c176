// fasta (the Benchmarks Game), the same algorithm as fasta.weft: lines are
// built in a buffer and written a section at a time.
package main

import (
	"bufio"
	"os"
	"strconv"
)

const (
	IM    = 139968
	IA    = 3877
	IC    = 29573
	WIDTH = 60
)

var seed int64 = 42

func random(max float64) float64 {
	seed = (seed*IA + IC) % IM
	return max * float64(seed) / float64(IM)
}

const ALU = "GGCCGGGCGCGGTGGCTCACGCCTGTAATCCCAGCACTTTGGGAGGCCGAGGCGGGCGGATCACCTGAGGTCAGGAGTTCGAGACCAGCCTGGCCAACATGGTGAAACCCCGTCTCTACTAAAAATACAAAAATTAGCCGGGCGTGGTGGCGCGCGCCTGTAATCCCAGCTACTCGGGAGGCTGAGGCAGGAGAATCGCTTGAACCCGGGAGGCGGAGGTTGCAGTGAGCCGAGATCGCGCCACTGCACTCCAGCCTGGGCGACAGAGCGAGACTCCGTCTCAAAAA"

var out = bufio.NewWriterSize(os.Stdout, 1<<16)

func repeatFasta(header, s string, n int) {
	buf := []byte(header)
	twice := s + s
	pos := 0
	for n > 0 {
		m := WIDTH
		if n < m {
			m = n
		}
		buf = append(buf, twice[pos:pos+m]...)
		buf = append(buf, '\n')
		pos += m
		if pos >= len(s) {
			pos -= len(s)
		}
		n -= m
	}
	out.Write(buf)
}

func randomFasta(header, codes string, probs []float64, n int) {
	cum := make([]float64, len(probs))
	acc := 0.0
	for i, p := range probs {
		acc += p
		cum[i] = acc
	}
	k := len(cum)
	buf := []byte(header)
	for n > 0 {
		m := WIDTH
		if n < m {
			m = n
		}
		for i := 0; i < m; i++ {
			r := random(1.0)
			j := 0
			for j < k-1 && cum[j] < r {
				j++
			}
			buf = append(buf, codes[j])
		}
		buf = append(buf, '\n')
		n -= m
	}
	out.Write(buf)
}

func main() {
	n := 2500000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	repeatFasta(">ONE Homo sapiens alu\n", ALU, 2*n)
	randomFasta(">TWO IUB ambiguity codes\n", "acgtBDHKMNRSVWY",
		[]float64{0.27, 0.12, 0.12, 0.27, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02}, 3*n)
	randomFasta(">THREE Homo sapiens frequency\n", "acgt",
		[]float64{0.3029549426680, 0.1979883004921, 0.1975473066391, 0.3015094502008}, 5*n)
	out.Flush()
}
