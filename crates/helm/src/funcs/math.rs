//! Sprig's math functions: integer ones return int64, the `f` ones float64.

use super::{Reg, arg, err, to_f64, to_i64};
use gotmpl::Value;

pub fn register(r: &mut Reg) {
    r.f("int", |a| Ok(Value::Int(to_i64(&arg(a, 0)))));
    r.f("int64", |a| Ok(Value::Int(to_i64(&arg(a, 0)))));
    r.f("float64", |a| Ok(Value::Float(to_f64(&arg(a, 0)))));
    r.f("atoi", |a| {
        Ok(Value::Int(
            super::sarg(a, 0).trim().parse::<i64>().unwrap_or(0),
        ))
    });
    r.f("toDecimal", |a| {
        Ok(Value::Int(
            i64::from_str_radix(&super::sarg(a, 0), 8).unwrap_or(0),
        ))
    });
    r.f("add", |a| {
        Ok(Value::Int(
            a.iter().map(to_i64).fold(0i64, i64::wrapping_add),
        ))
    });
    r.f("add1", |a| {
        Ok(Value::Int(to_i64(&arg(a, 0)).wrapping_add(1)))
    });
    r.f("sub", |a| {
        Ok(Value::Int(
            to_i64(&arg(a, 0)).wrapping_sub(to_i64(&arg(a, 1))),
        ))
    });
    r.f("mul", |a| {
        Ok(Value::Int(
            a.iter().map(to_i64).fold(1i64, i64::wrapping_mul),
        ))
    });
    r.f("div", |a| {
        let d = to_i64(&arg(a, 1));
        if d == 0 {
            return Err(err("runtime error: integer divide by zero"));
        }
        Ok(Value::Int(to_i64(&arg(a, 0)).wrapping_div(d)))
    });
    r.f("mod", |a| {
        let d = to_i64(&arg(a, 1));
        if d == 0 {
            return Err(err("runtime error: integer divide by zero"));
        }
        Ok(Value::Int(to_i64(&arg(a, 0)).wrapping_rem(d)))
    });
    r.f("max", |a| {
        Ok(Value::Int(a.iter().map(to_i64).max().unwrap_or(0)))
    });
    r.f("min", |a| {
        Ok(Value::Int(a.iter().map(to_i64).min().unwrap_or(0)))
    });
    r.f("addf", |a| Ok(Value::Float(a.iter().map(to_f64).sum())));
    r.f("add1f", |a| Ok(Value::Float(to_f64(&arg(a, 0)) + 1.0)));
    r.f("subf", |a| {
        Ok(Value::Float(
            a.iter()
                .skip(1)
                .fold(to_f64(&arg(a, 0)), |x, y| x - to_f64(y)),
        ))
    });
    r.f("mulf", |a| Ok(Value::Float(a.iter().map(to_f64).product())));
    r.f("divf", |a| {
        Ok(Value::Float(
            a.iter()
                .skip(1)
                .fold(to_f64(&arg(a, 0)), |x, y| x / to_f64(y)),
        ))
    });
    r.f("maxf", |a| {
        Ok(Value::Float(a.iter().map(to_f64).fold(f64::MIN, f64::max)))
    });
    r.f("minf", |a| {
        Ok(Value::Float(a.iter().map(to_f64).fold(f64::MAX, f64::min)))
    });
    r.f("floor", |a| Ok(Value::Float(to_f64(&arg(a, 0)).floor())));
    r.f("ceil", |a| Ok(Value::Float(to_f64(&arg(a, 0)).ceil())));
    r.f("round", |a| {
        let p = 10f64.powi(to_i64(&arg(a, 1)) as i32);
        Ok(Value::Float((to_f64(&arg(a, 0)) * p).round() / p))
    });
}
