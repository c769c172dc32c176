// Interface method calls: 1,000 shapes of two types behind the interface,
// summed 100,000 times (100M dynamic calls), as iface.weft.
package main

import "fmt"

type Shape interface{ Area() int }

type Square struct{ side int }
type Rect struct{ w, h int }

func (s *Square) Area() int { return s.side * s.side }
func (r *Rect) Area() int   { return r.w * r.h }

func main() {
	shapes := []Shape{}
	for i := 0; i < 1000; i++ {
		if i%3 == 0 {
			shapes = append(shapes, &Square{i % 7})
		} else {
			shapes = append(shapes, &Rect{i % 5, i % 11})
		}
	}
	total := 0
	for r := 0; r < 100000; r++ {
		for _, s := range shapes {
			total += s.Area()
		}
	}
	fmt.Println(total)
}
