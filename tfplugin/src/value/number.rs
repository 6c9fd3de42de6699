//! Arbitrary-precision cty numbers.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::BigDecimal;

/// The decimal exponent (power of ten of the leading digit) of any number we accept
/// lies within ±this. It keeps the plain (non-exponent) rendering and every
/// comparison cheap even for hostile input such as `1e999999999`, while covering
/// every finite f64 (whose exponents span roughly -324..=308) with room to spare.
pub const MAX_DECIMAL_EXPONENT: i64 = 10_000;

/// Numbers have at most this many significant digits. Terraform itself keeps 512
/// bits (about 154 digits); the exact decimal form of any f64 needs at most 767. The
/// cap keeps big-integer parsing and printing of hostile input cheap.
pub const MAX_SIGNIFICANT_DIGITS: usize = 10_000;

/// A cty number: an exact decimal of arbitrary precision.
///
/// Integers, floats and long decimals all round-trip exactly. Equality is numeric
/// (`1.50 == 1.5`).
#[derive(Clone)]
pub struct Number(BigDecimal);

/// Why a number could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// The text is not a decimal number (`-12.5e3` style).
    #[error("not a decimal number")]
    Syntax,
    /// The magnitude is beyond what we accept (see [`MAX_DECIMAL_EXPONENT`]).
    #[error("number magnitude out of range")]
    OutOfRange,
    /// More significant digits than [`MAX_SIGNIFICANT_DIGITS`].
    #[error("number has too many significant digits")]
    TooManyDigits,
    /// NaN and infinities are not cty numbers.
    #[error("NaN and infinity are not valid numbers")]
    NotFinite,
}

/// A number split into sign, significant digits without trailing zeros, and a scale
/// (digits after the decimal point; negative means trailing zeros).
struct Parts {
    negative: bool,
    digits: String,
    scale: i64,
}

impl Number {
    /// Wraps a [`BigDecimal`], rejecting magnitudes beyond [`MAX_DECIMAL_EXPONENT`].
    pub fn from_bigdecimal(value: BigDecimal) -> Result<Number, NumberError> {
        let number = Number(value);
        let parts = number.parts();
        check_digits(parts.digits.len())?;
        check_exponent(parts.digits.len(), parts.scale)?;
        Ok(number)
    }

    /// The underlying exact decimal.
    pub fn as_bigdecimal(&self) -> &BigDecimal {
        &self.0
    }

    /// Consumes the number, returning the exact decimal.
    pub fn into_bigdecimal(self) -> BigDecimal {
        self.0
    }

    /// The value as an `i64` when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.integer_text()?.parse().ok()
    }

    /// The value as a `u64` when it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.integer_text()?.parse().ok()
    }

    /// The nearest `f64` (infinite when beyond f64 range).
    pub fn as_f64(&self) -> f64 {
        // Rust's float parsing rounds correctly, so going through the exact text
        // yields the nearest f64.
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// The value as an `f64` only when that f64 is exactly this number.
    pub fn as_f64_exact(&self) -> Option<f64> {
        let f = self.as_f64();
        let back = Number::try_from(f).ok()?;
        (back == *self).then_some(f)
    }

    /// True when the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.parts().scale <= 0
    }

    /// The number as a JSON number, exact (serde_json's `arbitrary_precision` is on).
    pub fn to_json_number(&self) -> serde_json::Number {
        if let Some(i) = self.as_i64() {
            return i.into();
        }
        if let Some(u) = self.as_u64() {
            return u.into();
        }
        // Our plain rendering is always valid JSON number syntax.
        serde_json::Number::from_str(&self.to_string()).unwrap_or_else(|_| 0.into())
    }

    fn parts(&self) -> Parts {
        let (int, scale) = self.0.as_bigint_and_scale();
        let negative = int.sign() == Sign::Minus;
        let mut digits = int.magnitude().to_str_radix(10);
        if digits == "0" {
            return Parts {
                negative: false,
                digits,
                scale: 0,
            };
        }
        let kept = digits.trim_end_matches('0').len();
        let trailing = digits.len() - kept;
        digits.truncate(kept);
        Parts {
            negative,
            digits,
            scale: scale.saturating_sub(trailing as i64),
        }
    }

    /// Plain integer text (`-123000`) when the number is an integer of at most 20 digits.
    fn integer_text(&self) -> Option<String> {
        let parts = self.parts();
        if parts.scale > 0 {
            return None;
        }
        let zeros = usize::try_from(-parts.scale).ok()?;
        if parts.digits.len() + zeros > 20 {
            return None;
        }
        let mut text = String::with_capacity(parts.digits.len() + zeros + 1);
        if parts.negative {
            text.push('-');
        }
        text.push_str(&parts.digits);
        text.extend(std::iter::repeat_n('0', zeros));
        Some(text)
    }
}

fn check_digits(digit_count: usize) -> Result<(), NumberError> {
    if digit_count > MAX_SIGNIFICANT_DIGITS {
        Err(NumberError::TooManyDigits)
    } else {
        Ok(())
    }
}

/// Checks the decimal exponent of a number with `digit_count` significant digits
/// and the given scale.
fn check_exponent(digit_count: usize, scale: i64) -> Result<(), NumberError> {
    let exponent = (digit_count as i64).saturating_sub(1).saturating_sub(scale);
    if (-MAX_DECIMAL_EXPONENT..=MAX_DECIMAL_EXPONENT).contains(&exponent) {
        Ok(())
    } else {
        Err(NumberError::OutOfRange)
    }
}

impl FromStr for Number {
    type Err = NumberError;

    /// Parses `[+-]digits[.digits][(e|E)[+-]digits]` (at least one mantissa digit).
    fn from_str(s: &str) -> Result<Number, NumberError> {
        let bytes = s.as_bytes();
        let mut i = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let int_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let int_digits = &s[int_start..i];
        let mut frac_digits = "";
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            let frac_start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            frac_digits = &s[frac_start..i];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(NumberError::Syntax);
        }
        let mut exponent: i64 = 0;
        if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
            i += 1;
            let exp_negative = match bytes.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let exp_start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                // Saturate: anything this large is out of range anyway, but a long run
                // of zeros after it must still be read as syntax.
                exponent = exponent
                    .saturating_mul(10)
                    .saturating_add(i64::from(bytes[i] - b'0'))
                    .min(i64::MAX / 4);
                i += 1;
            }
            if i == exp_start {
                return Err(NumberError::Syntax);
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        if i != bytes.len() {
            return Err(NumberError::Syntax);
        }
        let mut mantissa = String::with_capacity(int_digits.len() + frac_digits.len());
        mantissa.push_str(int_digits);
        mantissa.push_str(frac_digits);
        let significant = mantissa.trim_start_matches('0');
        if significant.is_empty() {
            return Ok(Number(BigDecimal::from(0)));
        }
        let scale = (frac_digits.len() as i64).saturating_sub(exponent);
        let trimmed = significant.trim_end_matches('0');
        let trimmed_scale = scale.saturating_sub((significant.len() - trimmed.len()) as i64);
        check_digits(trimmed.len())?;
        check_exponent(trimmed.len(), trimmed_scale)?;
        let magnitude = BigInt::parse_bytes(trimmed.as_bytes(), 10).ok_or(NumberError::Syntax)?;
        let int = if negative { -magnitude } else { magnitude };
        Ok(Number(BigDecimal::new(int, trimmed_scale)))
    }
}

impl fmt::Display for Number {
    /// Exact plain decimal notation: `-12.5`, `123000`, `0.001`; never an exponent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Parts {
            negative,
            digits,
            scale,
        } = self.parts();
        if negative {
            f.write_str("-")?;
        }
        if scale <= 0 {
            f.write_str(&digits)?;
            for _ in 0..(-scale) {
                f.write_str("0")?;
            }
            return Ok(());
        }
        let point = scale as usize;
        if point < digits.len() {
            let (whole, frac) = digits.split_at(digits.len() - point);
            write!(f, "{whole}.{frac}")
        } else {
            f.write_str("0.")?;
            for _ in 0..(point - digits.len()) {
                f.write_str("0")?;
            }
            f.write_str(&digits)
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.0 == other.0
    }
}

impl Eq for Number {}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Number {
        Number(BigDecimal::from(v))
    }
}

impl From<u64> for Number {
    fn from(v: u64) -> Number {
        Number(BigDecimal::from(v))
    }
}

impl From<i32> for Number {
    fn from(v: i32) -> Number {
        Number(BigDecimal::from(v))
    }
}

impl From<u32> for Number {
    fn from(v: u32) -> Number {
        Number(BigDecimal::from(v))
    }
}

impl TryFrom<f64> for Number {
    type Error = NumberError;

    /// Converts exactly: every finite f64 is a finite binary fraction, hence a finite
    /// decimal.
    fn try_from(v: f64) -> Result<Number, NumberError> {
        if !v.is_finite() {
            return Err(NumberError::NotFinite);
        }
        let bits = v.to_bits();
        let negative = bits >> 63 == 1;
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let fraction = bits & ((1u64 << 52) - 1);
        // value = mantissa * 2^exponent
        let (mantissa, exponent) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1u64 << 52), biased - 1075)
        };
        let mut int = BigInt::from(mantissa);
        let scale = if exponent >= 0 {
            int <<= exponent as usize;
            0
        } else {
            // m * 2^-k == m * 5^k / 10^k
            int *= BigInt::from(5u8).pow((-exponent) as u32);
            -exponent
        };
        if negative {
            int = -int;
        }
        Ok(Number(BigDecimal::new(int, scale)))
    }
}

impl TryFrom<BigDecimal> for Number {
    type Error = NumberError;

    fn try_from(v: BigDecimal) -> Result<Number, NumberError> {
        Number::from_bigdecimal(v)
    }
}

impl serde::Serialize for Number {
    /// Integers as i64/u64, exact f64s as f64, anything else as an exact JSON number
    /// (relies on serde_json's `arbitrary_precision`).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(i) = self.as_i64() {
            serializer.serialize_i64(i)
        } else if let Some(u) = self.as_u64() {
            serializer.serialize_u64(u)
        } else if let Some(f) = self.as_f64_exact() {
            serializer.serialize_f64(f)
        } else {
            self.to_json_number().serialize(serializer)
        }
    }
}

impl<'de> serde::Deserialize<'de> for Number {
    /// Accepts any number a deserializer offers; from serde_json, the exact text.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Number, D::Error> {
        let json = serde_json::Number::deserialize(deserializer)?;
        json.to_string().parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        s.parse().unwrap()
    }

    #[test]
    fn parse_and_display_are_exact() {
        for (input, shown) in [
            ("0", "0"),
            ("-0", "0"),
            ("0.000", "0"),
            ("42", "42"),
            ("-42", "-42"),
            ("+7", "7"),
            ("1.50", "1.5"),
            ("-0.001", "-0.001"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1e3", "1000"),
            ("1.5E-3", "0.0015"),
            ("12345e-2", "123.45"),
            (
                "123456789012345678901234567890.123456789",
                "123456789012345678901234567890.123456789",
            ),
            ("18446744073709551616", "18446744073709551616"),
            ("0001.2300", "1.23"),
        ] {
            assert_eq!(n(input).to_string(), shown, "input {input}");
        }
    }

    #[test]
    fn bad_syntax_is_rejected() {
        for bad in [
            "", "-", ".", "e5", "1e", "1e+", "1.2.3", "abc", "NaN", "inf", "1 ", " 1", "0x10",
            "1_000", "--1",
        ] {
            assert_eq!(bad.parse::<Number>(), Err(NumberError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn huge_exponents_are_out_of_range() {
        assert_eq!(
            "1e999999999999999999999".parse::<Number>(),
            Err(NumberError::OutOfRange)
        );
        assert_eq!("1e-20000".parse::<Number>(), Err(NumberError::OutOfRange));
        let many = "1".repeat(MAX_SIGNIFICANT_DIGITS + 1);
        assert_eq!(many.parse::<Number>(), Err(NumberError::TooManyDigits));
        assert!(many[1..].parse::<Number>().is_ok());
        // Trailing zeros are not significant.
        let round = format!("1{}", "0".repeat(MAX_DECIMAL_EXPONENT as usize));
        assert_eq!(round.parse::<Number>().unwrap().to_string(), round);
        // Zero with any exponent is just zero.
        assert_eq!(n("0e999999999999"), Number::from(0));
        // Trailing zeros in the mantissa count against the exponent correctly.
        assert_eq!(n("1000e-10003"), n("1e-10000"));
    }

    #[test]
    fn equality_is_numeric() {
        assert_eq!(n("1.0"), Number::from(1));
        assert_eq!(n("100"), n("1e2"));
        assert_ne!(n("0.1"), Number::try_from(0.1).unwrap());
        assert!(n("-1") < n("0.5"));
    }

    #[test]
    fn integer_accessors() {
        assert_eq!(Number::from(i64::MIN).as_i64(), Some(i64::MIN));
        assert_eq!(Number::from(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(Number::from(u64::MAX).as_i64(), None);
        assert_eq!(Number::from(-1).as_u64(), None);
        assert_eq!(n("1.5").as_i64(), None);
        assert_eq!(n("1e19").as_u64(), Some(10_000_000_000_000_000_000));
        assert_eq!(n("1e25").as_u64(), None);
        assert_eq!(n("2.000").as_i64(), Some(2));
        assert!(n("2.000").is_integer());
        assert!(!n("2.001").is_integer());
    }

    #[test]
    fn f64_conversions_are_exact() {
        assert_eq!(Number::try_from(1.5).unwrap().to_string(), "1.5");
        assert_eq!(Number::try_from(-0.0).unwrap().to_string(), "0");
        assert_eq!(
            Number::try_from(0.1).unwrap().to_string(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(Number::try_from(1e300).unwrap().as_f64(), 1e300);
        for f in [
            0.1,
            -2.5,
            1e-300,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            123456.789,
        ] {
            let num = Number::try_from(f).unwrap();
            assert_eq!(num.as_f64(), f);
            assert_eq!(num.as_f64_exact(), Some(f));
        }
        assert_eq!(n("0.1").as_f64_exact(), None);
        assert_eq!(n("0.1").as_f64(), 0.1);
        assert_eq!(Number::try_from(f64::NAN), Err(NumberError::NotFinite));
        assert_eq!(Number::try_from(f64::INFINITY), Err(NumberError::NotFinite));
    }

    #[test]
    fn serde_round_trips_exactly() {
        for text in [
            "0",
            "-17",
            "18446744073709551615",
            "1.5",
            "123456789012345678901234567890.123456789",
            "-0.1",
        ] {
            let num = n(text);
            let json = serde_json::to_string(&num).unwrap();
            assert_eq!(json, text);
            let back: Number = serde_json::from_str(&json).unwrap();
            assert_eq!(back, num);
        }
        let from_exp: Number = serde_json::from_str("1.5e2").unwrap();
        assert_eq!(from_exp, Number::from(150));
    }

    #[test]
    fn from_bigdecimal_checks_range() {
        let ok: BigDecimal = "12.5".parse().unwrap();
        assert_eq!(Number::try_from(ok).unwrap(), n("12.5"));
        let huge = BigDecimal::new(BigInt::from(1), -20_000);
        assert_eq!(
            Number::from_bigdecimal(huge).unwrap_err(),
            NumberError::OutOfRange
        );
    }
}
