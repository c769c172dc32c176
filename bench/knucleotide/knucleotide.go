// k-nucleotide of the Benchmarks Game, single-threaded Go peer for
// bench/run.py: the same algorithm as knucleotide.weft (2-bit codes, one
// map of k-mer counts per k, updated as the window slides).
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
)

func code(b byte) uint64 {
	switch b | 32 {
	case 'a':
		return 0
	case 'c':
		return 1
	case 'g':
		return 2
	}
	return 3
}

func count(seq []byte, k int) map[uint64]int {
	counts := make(map[uint64]int)
	mask := uint64(1)<<(2*uint(k)) - 1
	key := uint64(0)
	for i := 0; i < k-1; i++ {
		key = key<<2 | uint64(seq[i])
	}
	for i := k - 1; i < len(seq); i++ {
		key = (key<<2 | uint64(seq[i])) & mask
		counts[key]++
	}
	return counts
}

func name(key uint64, k int) string {
	out := make([]byte, k)
	for i := 0; i < k; i++ {
		out[i] = "ACGT"[(key>>(2*uint(k-1-i)))&3]
	}
	return string(out)
}

type freq struct {
	name string
	n    int
}

func frequencies(w *bufio.Writer, seq []byte, k int) {
	var all []freq
	for key, n := range count(seq, k) {
		all = append(all, freq{name(key, k), n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].name < all[j].name
	})
	total := float64(len(seq) - k + 1)
	for _, f := range all {
		fmt.Fprintf(w, "%s %.3f\n", f.name, 100*float64(f.n)/total)
	}
	fmt.Fprintln(w)
}

func main() {
	in, _ := io.ReadAll(bufio.NewReaderSize(os.Stdin, 1<<20))
	i := bytes.Index(in, []byte(">THREE"))
	for i < len(in) && in[i] != '\n' {
		i++
	}
	seq := make([]byte, 0, len(in)-i)
	for ; i < len(in) && in[i] != '>'; i++ {
		if in[i] != '\n' {
			seq = append(seq, byte(code(in[i])))
		}
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	frequencies(w, seq, 1)
	frequencies(w, seq, 2)
	for _, p := range []string{"GGT", "GGTA", "GGTATT", "GGTATTTTAATT", "GGTATTTTAATTTATAGT"} {
		key := uint64(0)
		for j := 0; j < len(p); j++ {
			key = key<<2 | code(p[j])
		}
		fmt.Fprintf(w, "%d\t%s\n", count(seq, len(p))[key], p)
	}
}
