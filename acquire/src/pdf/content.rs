//! A bounded reader for page content streams: just enough of the PDF graphics model to find
//! where images are drawn and which areas are filled dark (a QR code drawn as vector
//! rectangles or paths). Linear in the input, with a fixed-size operand stack; strings, arrays,
//! dictionaries and inline image data are skipped, never built.

/// A 2-D affine transform `[a b c d e f]` as in PDF (`x' = a·x + c·y + e`, `y' = b·x + d·y + f`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Matrix(pub [f64; 6]);

impl Matrix {
    pub const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    /// `self` applied first, then `outer`.
    pub fn then(&self, outer: &Matrix) -> Matrix {
        let [a, b, c, d, e, f] = self.0;
        let [oa, ob, oc, od, oe, of] = outer.0;
        Matrix([
            a * oa + b * oc,
            a * ob + b * od,
            c * oa + d * oc,
            c * ob + d * od,
            e * oa + f * oc + oe,
            e * ob + f * od + of,
        ])
    }

    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }
}

/// What the page asks to be painted, in page space.
#[derive(Debug, PartialEq)]
pub enum Paint {
    /// A filled area (closed polygons; curves flattened to their end points) and the darkness of
    /// its fill, 0.0 white … 1.0 black.
    Fill {
        polygons: Vec<Vec<(f64, f64)>>,
        darkness: f64,
        even_odd: bool,
    },
    /// `Do` of an XObject (image or form) with the transform in force.
    Draw { name: Vec<u8>, ctm: Matrix },
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ContentError {
    #[error("page content has more than {0} operations")]
    TooManyOperations(usize),
    #[error("page content nests q/Q or arrays deeper than {0}")]
    TooDeep(usize),
}

const MAX_OPERANDS: usize = 16;
const MAX_STATE_DEPTH: usize = 64;
const MAX_ARRAY_DEPTH: usize = 32;
/// Points kept per path: a QR code drawn module by module is a few thousand.
const MAX_PATH_POINTS: usize = 200_000;

#[derive(Clone, Copy)]
struct State {
    ctm: Matrix,
    darkness: f64,
}

/// Reads `content` with `ctm` as the initial transform, handing each paint to `paint`.
/// Stops with an error past `max_operations` operators.
pub fn interpret(
    content: &[u8],
    ctm: Matrix,
    max_operations: usize,
    paint: &mut dyn FnMut(Paint),
) -> Result<(), ContentError> {
    let mut lexer = Lexer { input: content, pos: 0 };
    let mut operands: Vec<f64> = Vec::with_capacity(MAX_OPERANDS);
    let mut name: Option<Vec<u8>> = None;
    let mut state = State { ctm, darkness: 1.0 };
    let mut stack: Vec<State> = Vec::new();
    let mut path: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut points = 0usize;
    let mut operations = 0usize;

    while let Some(token) = lexer.next()? {
        match token {
            Token::Number(n) => {
                if operands.len() == MAX_OPERANDS {
                    operands.remove(0);
                }
                operands.push(n);
            }
            Token::Name(n) => name = Some(n),
            Token::Other => {}
            Token::Operator(op) => {
                operations += 1;
                if operations > max_operations {
                    return Err(ContentError::TooManyOperations(max_operations));
                }
                let args = operands.as_slice();
                match op {
                    b"q" => {
                        if stack.len() == MAX_STATE_DEPTH {
                            return Err(ContentError::TooDeep(MAX_STATE_DEPTH));
                        }
                        stack.push(state);
                    }
                    b"Q" => state = stack.pop().unwrap_or(state),
                    b"cm" => {
                        if let Some([a, b, c, d, e, f]) = last::<6>(args) {
                            state.ctm = Matrix([a, b, c, d, e, f]).then(&state.ctm);
                        }
                    }
                    b"g" => {
                        if let Some([gray]) = last::<1>(args) {
                            state.darkness = 1.0 - gray.clamp(0.0, 1.0);
                        }
                    }
                    b"rg" => {
                        if let Some([r, g, b]) = last::<3>(args) {
                            state.darkness = 1.0 - luminance(r, g, b);
                        }
                    }
                    b"k" => {
                        if let Some([c, m, y, k]) = last::<4>(args) {
                            state.darkness = cmyk_darkness(c, m, y, k);
                        }
                    }
                    b"sc" | b"scn" => {
                        state.darkness = match args {
                            [.., c, m, y, k] if args.len() >= 4 => cmyk_darkness(*c, *m, *y, *k),
                            [.., r, g, b] if args.len() == 3 => 1.0 - luminance(*r, *g, *b),
                            [.., gray] => 1.0 - gray.clamp(0.0, 1.0),
                            [] => state.darkness,
                        };
                    }
                    b"m" => {
                        if let Some([x, y]) = last::<2>(args) {
                            path.push(vec![state.ctm.apply(x, y)]);
                            points += 1;
                        }
                    }
                    b"l" | b"c" | b"v" | b"y" => {
                        // A curve is taken to its end point: enough for codes drawn as shapes.
                        if let Some([x, y]) = last::<2>(args) {
                            let p = state.ctm.apply(x, y);
                            match path.last_mut() {
                                Some(sub) => sub.push(p),
                                None => path.push(vec![p]),
                            }
                            points += 1;
                        }
                    }
                    b"re" => {
                        if let Some([x, y, w, h]) = last::<4>(args) {
                            let m = &state.ctm;
                            path.push(vec![
                                m.apply(x, y),
                                m.apply(x + w, y),
                                m.apply(x + w, y + h),
                                m.apply(x, y + h),
                            ]);
                            points += 4;
                        }
                    }
                    b"f" | b"F" | b"f*" | b"B" | b"B*" | b"b" | b"b*" => {
                        let polygons = std::mem::take(&mut path);
                        points = 0;
                        if !polygons.is_empty() {
                            paint(Paint::Fill {
                                polygons,
                                darkness: state.darkness,
                                even_odd: op.ends_with(b"*"),
                            });
                        }
                    }
                    b"n" | b"S" | b"s" => {
                        path.clear();
                        points = 0;
                    }
                    b"Do" => {
                        if let Some(name) = name.take() {
                            paint(Paint::Draw { name, ctm: state.ctm });
                        }
                    }
                    b"BI" => lexer.skip_inline_image(),
                    _ => {}
                }
                if points > MAX_PATH_POINTS {
                    path.clear();
                    points = 0;
                }
                operands.clear();
            }
        }
    }
    Ok(())
}

/// The last `N` operands, when there are that many.
fn last<const N: usize>(args: &[f64]) -> Option<[f64; N]> {
    args.get(args.len().checked_sub(N)?..)?.try_into().ok()
}

fn luminance(r: f64, g: f64, b: f64) -> f64 {
    (0.299 * r + 0.587 * g + 0.114 * b).clamp(0.0, 1.0)
}

fn cmyk_darkness(c: f64, m: f64, y: f64, k: f64) -> f64 {
    let r = (1.0 - c) * (1.0 - k);
    let g = (1.0 - m) * (1.0 - k);
    let b = (1.0 - y) * (1.0 - k);
    1.0 - luminance(r, g, b)
}

enum Token<'a> {
    Number(f64),
    Name(Vec<u8>),
    Operator(&'a [u8]),
    /// A string, array, dictionary, boolean or anything else an operator may take.
    Other,
}

struct Lexer<'a> {
    input: &'a [u8],
    pos: usize,
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn next(&mut self) -> Result<Option<Token<'a>>, ContentError> {
        loop {
            while self.peek().is_some_and(is_white) {
                self.pos += 1;
            }
            let Some(b) = self.peek() else {
                return Ok(None);
            };
            match b {
                b'%' => {
                    while self.peek().is_some_and(|c| c != b'\n' && c != b'\r') {
                        self.pos += 1;
                    }
                }
                b'/' => {
                    self.pos += 1;
                    let start = self.pos;
                    self.skip_regular();
                    return Ok(Some(Token::Name(self.input[start..self.pos].to_vec())));
                }
                b'(' => {
                    self.skip_string();
                    return Ok(Some(Token::Other));
                }
                b'[' => {
                    self.skip_array()?;
                    return Ok(Some(Token::Other));
                }
                b'<' => {
                    if self.input.get(self.pos + 1) == Some(&b'<') {
                        self.skip_dictionary()?;
                    } else {
                        while self.peek().is_some_and(|c| c != b'>') {
                            self.pos += 1;
                        }
                        self.pos += 1;
                    }
                    return Ok(Some(Token::Other));
                }
                b')' | b'>' | b']' | b'{' | b'}' => {
                    self.pos += 1;
                    return Ok(Some(Token::Other));
                }
                _ => {
                    let start = self.pos;
                    self.skip_regular();
                    if self.pos == start {
                        self.pos += 1;
                        continue;
                    }
                    let word = &self.input[start..self.pos];
                    let numeric = word
                        .iter()
                        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+'));
                    if numeric {
                        let n = std::str::from_utf8(word).ok().and_then(|s| s.parse::<f64>().ok());
                        return Ok(Some(n.filter(|n| n.is_finite()).map_or(Token::Other, Token::Number)));
                    }
                    if word == b"true" || word == b"false" || word == b"null" {
                        return Ok(Some(Token::Other));
                    }
                    return Ok(Some(Token::Operator(word)));
                }
            }
        }
    }

    fn skip_regular(&mut self) {
        while self.peek().is_some_and(|c| !is_white(c) && !is_delimiter(c)) {
            self.pos += 1;
        }
    }

    fn skip_string(&mut self) {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'\\' => self.pos += 1,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    /// Skips a balanced `[ … ]` (or `<< … >>`), strings inside included.
    fn skip_nested(&mut self, open: u8, close: u8) -> Result<(), ContentError> {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            if c == b'(' {
                self.skip_string();
                continue;
            }
            self.pos += 1;
            if c == open {
                depth += 1;
                if depth > MAX_ARRAY_DEPTH {
                    return Err(ContentError::TooDeep(MAX_ARRAY_DEPTH));
                }
            } else if c == close {
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn skip_array(&mut self) -> Result<(), ContentError> {
        self.skip_nested(b'[', b']')
    }

    fn skip_dictionary(&mut self) -> Result<(), ContentError> {
        // `<<` and `>>` are two bytes; counting single brackets balances them as well.
        self.skip_nested(b'<', b'>')
    }

    /// After `BI`: skips the image's dictionary, `ID`, its data and `EI`.
    fn skip_inline_image(&mut self) {
        let rest = &self.input[self.pos..];
        let data_start = rest.windows(3).position(|w| w[..2] == *b"ID" && is_white(w[2]));
        let Some(data_start) = data_start else {
            self.pos = self.input.len();
            return;
        };
        let after = data_start + 3;
        let end = rest[after..]
            .windows(4)
            .position(|w| is_white(w[0]) && w[1..3] == *b"EI" && (is_white(w[3]) || w[3] == b'Q'))
            .map_or(rest.len(), |i| after + i + 3);
        self.pos += end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paints(content: &[u8]) -> Vec<Paint> {
        let mut out = Vec::new();
        interpret(content, Matrix::IDENTITY, 1000, &mut |p| out.push(p)).expect("content");
        out
    }

    #[test]
    fn rectangles_are_transformed_and_filled_with_their_colour() {
        let out = paints(b"q 2 0 0 2 10 20 cm 0 g 1 1 3 4 re f Q 1 g 0 0 1 1 re f");
        assert_eq!(out.len(), 2);
        let Paint::Fill { polygons, darkness, .. } = &out[0] else {
            panic!("not a fill")
        };
        assert_eq!(polygons[0], [(12.0, 22.0), (18.0, 22.0), (18.0, 30.0), (12.0, 30.0)]);
        assert_eq!(*darkness, 1.0);
        let Paint::Fill { polygons, darkness, .. } = &out[1] else {
            panic!("not a fill")
        };
        assert_eq!(polygons[0][2], (1.0, 1.0), "Q restores the transform");
        assert_eq!(*darkness, 0.0);
    }

    #[test]
    fn strings_arrays_and_inline_images_are_skipped() {
        let out = paints(b"BT (a) re f) Tj [(x] q) 1 [2]] TJ ET BI /W 1 /H 1 ID \x00re f\x01 EI /Im1 Do");
        assert_eq!(
            out,
            [Paint::Draw {
                name: b"Im1".to_vec(),
                ctm: Matrix::IDENTITY
            }]
        );
    }

    #[test]
    fn hostile_content_is_bounded() {
        let deep = "[".repeat(10_000);
        assert_eq!(
            interpret(deep.as_bytes(), Matrix::IDENTITY, 10, &mut |_| ()),
            Err(ContentError::TooDeep(MAX_ARRAY_DEPTH))
        );
        let many = "q Q ".repeat(100);
        assert_eq!(
            interpret(many.as_bytes(), Matrix::IDENTITY, 10, &mut |_| ()),
            Err(ContentError::TooManyOperations(10))
        );
        let nested = "q ".repeat(100);
        assert!(interpret(nested.as_bytes(), Matrix::IDENTITY, 1000, &mut |_| ()).is_err());
        // Unterminated everything: ends quietly.
        for bad in [&b"(abc"[..], b"<<", b"BI /W 1", b"1 2 3 4 re", b"[(", b"<0a"] {
            interpret(bad, Matrix::IDENTITY, 1000, &mut |_| ()).expect("tolerated");
        }
    }
}
