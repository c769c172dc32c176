// Interface method calls: 1,000 shapes of two types behind `dyn Shape`,
// summed 100,000 times (100M dynamic calls), as bench/iface/iface.weft.
trait Shape {
    fn area(&self) -> i64;
}

struct Square {
    side: i64,
}

struct Rect {
    w: i64,
    h: i64,
}

impl Shape for Square {
    fn area(&self) -> i64 {
        self.side * self.side
    }
}

impl Shape for Rect {
    fn area(&self) -> i64 {
        self.w * self.h
    }
}

fn main() {
    let mut shapes: Vec<Box<dyn Shape>> = Vec::new();
    for i in 0..1000 {
        if i % 3 == 0 {
            shapes.push(Box::new(Square { side: i % 7 }));
        } else {
            shapes.push(Box::new(Rect { w: i % 5, h: i % 11 }));
        }
    }
    let mut total: i64 = 0;
    for _ in 0..100000 {
        for s in &shapes {
            total = total.wrapping_add(s.area());
        }
    }
    println!("{total}");
}
