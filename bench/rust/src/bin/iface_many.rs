// Interface method calls: 1,000 values of ten types behind `dyn Shape`,
// summed 100,000 times (100M dynamic calls), as bench/iface/iface_many.weft.
trait Shape {
    fn area(&self) -> i64;
}

struct T0 {
    a: i64,
}

impl Shape for T0 {
    fn area(&self) -> i64 {
        self.a * 1
    }
}

struct T1 {
    a: i64,
}

impl Shape for T1 {
    fn area(&self) -> i64 {
        self.a * 2
    }
}

struct T2 {
    a: i64,
}

impl Shape for T2 {
    fn area(&self) -> i64 {
        self.a * 3
    }
}

struct T3 {
    a: i64,
}

impl Shape for T3 {
    fn area(&self) -> i64 {
        self.a * 4
    }
}

struct T4 {
    a: i64,
}

impl Shape for T4 {
    fn area(&self) -> i64 {
        self.a * 5
    }
}

struct T5 {
    a: i64,
}

impl Shape for T5 {
    fn area(&self) -> i64 {
        self.a * 6
    }
}

struct T6 {
    a: i64,
}

impl Shape for T6 {
    fn area(&self) -> i64 {
        self.a * 7
    }
}

struct T7 {
    a: i64,
}

impl Shape for T7 {
    fn area(&self) -> i64 {
        self.a * 8
    }
}

struct T8 {
    a: i64,
}

impl Shape for T8 {
    fn area(&self) -> i64 {
        self.a * 9
    }
}

struct T9 {
    a: i64,
}

impl Shape for T9 {
    fn area(&self) -> i64 {
        self.a * 10
    }
}

fn main() {
    let mut shapes: Vec<Box<dyn Shape>> = Vec::new();
    for i in 0..1000 {
        let a = i % 7;
        match i % 10 {
            0 => shapes.push(Box::new(T0 { a })),
            1 => shapes.push(Box::new(T1 { a })),
            2 => shapes.push(Box::new(T2 { a })),
            3 => shapes.push(Box::new(T3 { a })),
            4 => shapes.push(Box::new(T4 { a })),
            5 => shapes.push(Box::new(T5 { a })),
            6 => shapes.push(Box::new(T6 { a })),
            7 => shapes.push(Box::new(T7 { a })),
            8 => shapes.push(Box::new(T8 { a })),
            _ => shapes.push(Box::new(T9 { a })),
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
