// Interface method calls: 1,000 values of ten types behind an interface,
// summed 100,000 times (100M dynamic calls), as iface_many.weft.
package main

import "fmt"

type Shape interface{ Area() int }

type T0 struct{ a int }

func (t *T0) Area() int { return t.a * 1 }

type T1 struct{ a int }

func (t *T1) Area() int { return t.a * 2 }

type T2 struct{ a int }

func (t *T2) Area() int { return t.a * 3 }

type T3 struct{ a int }

func (t *T3) Area() int { return t.a * 4 }

type T4 struct{ a int }

func (t *T4) Area() int { return t.a * 5 }

type T5 struct{ a int }

func (t *T5) Area() int { return t.a * 6 }

type T6 struct{ a int }

func (t *T6) Area() int { return t.a * 7 }

type T7 struct{ a int }

func (t *T7) Area() int { return t.a * 8 }

type T8 struct{ a int }

func (t *T8) Area() int { return t.a * 9 }

type T9 struct{ a int }

func (t *T9) Area() int { return t.a * 10 }

func main() {
	shapes := []Shape{}
	for i := 0; i < 1000; i++ {
		a := i % 7
		switch i % 10 {
		case 0:
			shapes = append(shapes, &T0{a})
		case 1:
			shapes = append(shapes, &T1{a})
		case 2:
			shapes = append(shapes, &T2{a})
		case 3:
			shapes = append(shapes, &T3{a})
		case 4:
			shapes = append(shapes, &T4{a})
		case 5:
			shapes = append(shapes, &T5{a})
		case 6:
			shapes = append(shapes, &T6{a})
		case 7:
			shapes = append(shapes, &T7{a})
		case 8:
			shapes = append(shapes, &T8{a})
		default:
			shapes = append(shapes, &T9{a})
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
