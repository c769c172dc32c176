// binary-trees depth 18: the Go peer of binary.weft (single goroutine, as Weft).
package main

import "fmt"

type Node struct{ left, right *Node }

func make_(depth int) *Node {
	if depth == 0 {
		return &Node{}
	}
	return &Node{make_(depth - 1), make_(depth - 1)}
}

func (n *Node) check() int {
	c := 1
	if n.left != nil {
		c += n.left.check()
	}
	if n.right != nil {
		c += n.right.check()
	}
	return c
}

func main() {
	maxDepth := 18
	stretch := maxDepth + 1
	fmt.Printf("stretch tree of depth %d\t check: %d\n", stretch, make_(stretch).check())
	longLived := make_(maxDepth)
	for depth := 4; depth <= maxDepth; depth += 2 {
		iterations := 1 << (maxDepth - depth + 4)
		total := 0
		for i := 0; i < iterations; i++ {
			total += make_(depth).check()
		}
		fmt.Printf("%d\t trees of depth %d\t check: %d\n", iterations, depth, total)
	}
	fmt.Printf("long lived tree of depth %d\t check: %d\n", maxDepth, longLived.check())
}
