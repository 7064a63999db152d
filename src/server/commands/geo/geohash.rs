//! Redis's geohash arithmetic: 52-bit interleaved scores (latitude in the even
//! bits, longitude in the odd ones, over -180..180 and -85.05112878..85.05112878),
//! box neighbours, the nine-box cover of a search area and the haversine
//! distance on Redis's Earth radius. Every formula follows Redis 7.0's
//! geohash.c / geohash_helper.c so scores, distances and result sets are the same.

/// Longitude and latitude limits (Web Mercator latitude).
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
pub const LAT_MIN: f64 = -85.051_128_78;
pub const LAT_MAX: f64 = 85.051_128_78;
/// Precision of stored scores: 26 bits per coordinate.
pub const STEP_MAX: u8 = 26;

const D_R: f64 = std::f64::consts::PI / 180.0;
const EARTH_RADIUS_IN_METERS: f64 = 6_372_797.560_856;
const MERCATOR_MAX: f64 = 20_037_726.37;

/// A geohash: `step` bits per coordinate, interleaved in `bits`.
#[derive(Clone, Copy, PartialEq, Debug, Default)]
pub struct Hash {
    pub bits: u64,
    pub step: u8,
}

impl Hash {
    /// The empty hash marking a neighbour left out of a search.
    fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

/// A range of one coordinate.
#[derive(Clone, Copy, Debug)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The box a hash covers.
#[derive(Clone, Copy, Debug)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

fn deg_rad(a: f64) -> f64 {
    a * D_R
}

fn rad_deg(a: f64) -> f64 {
    a / D_R
}

fn spread(v: u32) -> u64 {
    let mut x = v as u64;
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

fn squash(mut x: u64) -> u32 {
    x &= 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x >> 4)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x >> 8)) & 0x0000_ffff_0000_ffff;
    ((x | (x >> 16)) & 0xffff_ffff) as u32
}

/// The ranges Redis stores coordinates in.
pub fn coord_ranges() -> (Range, Range) {
    (
        Range {
            min: LONG_MIN,
            max: LONG_MAX,
        },
        Range {
            min: LAT_MIN,
            max: LAT_MAX,
        },
    )
}

/// Encodes a point with `step` bits per coordinate within the given ranges;
/// a point outside them (or the Mercator limits) gives bits 0, as Redis.
pub fn encode(long_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Hash {
    let mut h = Hash { bits: 0, step };
    if !(LAT_MIN..=LAT_MAX).contains(&lat) || !(LONG_MIN..=LONG_MAX).contains(&lon) {
        return h;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < long_r.min || lon > long_r.max {
        return h;
    }
    let scale = (1u64 << step) as f64;
    let lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_off = (lon - long_r.min) / (long_r.max - long_r.min) * scale;
    h.bits = spread(lat_off as u32) | (spread(lon_off as u32) << 1);
    h
}

/// Encodes a point in Redis's stored ranges.
pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Hash {
    let (lo, la) = coord_ranges();
    encode(lo, la, lon, lat, step)
}

/// The box a hash covers within the given ranges.
pub fn decode(long_r: Range, lat_r: Range, h: Hash) -> Area {
    let ilat = squash(h.bits) as f64;
    let ilon = squash(h.bits >> 1) as f64;
    let div = (1u64 << h.step) as f64;
    let lat_scale = lat_r.max - lat_r.min;
    let long_scale = long_r.max - long_r.min;
    Area {
        latitude: Range {
            min: lat_r.min + (ilat / div) * lat_scale,
            max: lat_r.min + ((ilat + 1.0) / div) * lat_scale,
        },
        longitude: Range {
            min: long_r.min + (ilon / div) * long_scale,
            max: long_r.min + ((ilon + 1.0) / div) * long_scale,
        },
    }
}

/// The centre of a box, clamped to the valid coordinates: [longitude, latitude].
pub fn area_center(a: &Area) -> [f64; 2] {
    let lon = ((a.longitude.min + a.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((a.latitude.min + a.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// A score converted to 64 bits as Redis's `(uint64_t)score` does on x86-64
/// (any score can be in a sorted set: negative ones wrap around, ones beyond
/// the integer range give the CPU's "integer indefinite" pattern).
fn score_bits(score: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    const INDEFINITE: u64 = 0x8000_0000_0000_0000;
    let to_i64 = |x: f64| {
        if !(-TWO63..TWO63).contains(&x) {
            INDEFINITE
        } else {
            x as i64 as u64
        }
    };
    if score < TWO63 {
        to_i64(score)
    } else {
        to_i64(score - TWO63) ^ INDEFINITE
    }
}

/// Decodes a sorted-set score into [longitude, latitude] (Redis's
/// decodeGeohash: the score truncated to an integer, its 52 bits decoded).
pub fn decode_score(score: f64) -> [f64; 2] {
    let bits = score_bits(score);
    let (lo, la) = coord_ranges();
    area_center(&decode(
        lo,
        la,
        Hash {
            bits,
            step: STEP_MAX,
        },
    ))
}

/// The hash's bits left-aligned to 52 bits (the score of its first point).
pub fn align52(h: Hash) -> u64 {
    h.bits << (52 - h.step as u32 * 2)
}

fn move_x(h: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - h.step as u32 * 2;
    let mut x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64.checked_shr(shift).unwrap_or(0);
    if d > 0 {
        x = x.wrapping_add(zz.wrapping_add(1));
    } else {
        x |= zz;
        x = x.wrapping_sub(zz.wrapping_add(1));
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64.checked_shr(shift).unwrap_or(0);
    h.bits = x | y;
}

fn move_y(h: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - h.step as u32 * 2;
    let x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64.checked_shr(shift).unwrap_or(0);
    if d > 0 {
        y = y.wrapping_add(zz.wrapping_add(1));
    } else {
        y |= zz;
        y = y.wrapping_sub(zz.wrapping_add(1));
    }
    y &= 0x5555_5555_5555_5555u64.checked_shr(shift).unwrap_or(0);
    h.bits = x | y;
}

fn moved(h: Hash, dx: i8, dy: i8) -> Hash {
    let mut n = h;
    move_x(&mut n, dx);
    move_y(&mut n, dy);
    n
}

/// Redis's distance estimate of a step for a search radius at a latitude.
fn steps_by_radius(mut range: f64, lat: f64) -> u8 {
    if range == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// A search area: a circle (radius) or an axis-aligned box (width, height),
/// in the unit `conversion` metres, centred at `xy` (longitude, latitude).
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

/// The shape with its centre and unit.
#[derive(Clone, Copy, Debug)]
pub struct Search {
    pub xy: [f64; 2],
    pub conversion: f64,
    pub shape: Shape,
}

impl Search {
    /// The bounding box [min lon, min lat, max lon, max lat] (geohashBoundingBox).
    fn bounds(&self) -> [f64; 4] {
        let [lon, lat] = self.xy;
        let (h, w) = match self.shape {
            Shape::Circle { radius } => (radius, radius),
            Shape::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let height = self.conversion * h;
        let width = self.conversion * w;
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let top = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat + lat_delta).cos());
        let bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat - lat_delta).cos());
        let south = lat < 0.0;
        [
            if south { lon - bottom } else { lon - top },
            lat - lat_delta,
            if south { lon + bottom } else { lon + top },
            lat + lat_delta,
        ]
    }

    /// The nine boxes to scan, in Redis's order (centre, N, S, E, W, NE, NW,
    /// SE, SW), the useless ones zeroed (geohashCalculateAreasByShapeWGS84).
    pub fn boxes(&self) -> [Hash; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounds();
        let [lon, lat] = self.xy;
        let radius = match self.shape {
            Shape::Circle { radius } => radius,
            Shape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut steps = steps_by_radius(radius, lat);
        let (lo, la) = coord_ranges();
        let mut hash = encode(lo, la, lon, lat, steps);
        let north = decode(lo, la, moved(hash, 0, 1));
        let south = decode(lo, la, moved(hash, 0, -1));
        let east = decode(lo, la, moved(hash, 1, 0));
        let west = decode(lo, la, moved(hash, -1, 0));
        let decrease = north.latitude.max < max_lat
            || south.latitude.min > min_lat
            || east.longitude.max < max_lon
            || west.longitude.min > min_lon;
        if steps > 1 && decrease {
            steps -= 1;
            hash = encode(lo, la, lon, lat, steps);
        }
        let area = decode(lo, la, hash);
        // N, S, E, W, NE, NW, SE, SW
        let mut n = [
            moved(hash, 0, 1),
            moved(hash, 0, -1),
            moved(hash, 1, 0),
            moved(hash, -1, 0),
            moved(hash, 1, 1),
            moved(hash, -1, 1),
            moved(hash, 1, -1),
            moved(hash, -1, -1),
        ];
        if steps >= 2 {
            let zero = Hash::default();
            if area.latitude.min < min_lat {
                for i in [1, 6, 7] {
                    n[i] = zero;
                }
            }
            if area.latitude.max > max_lat {
                for i in [0, 4, 5] {
                    n[i] = zero;
                }
            }
            if area.longitude.min < min_lon {
                for i in [3, 7, 5] {
                    n[i] = zero;
                }
            }
            if area.longitude.max > max_lon {
                for i in [2, 6, 4] {
                    n[i] = zero;
                }
            }
        }
        [hash, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]]
    }

    /// Whether the point is inside the shape, with its distance from the
    /// centre in metres (geoWithinShape).
    pub fn contains(&self, p: [f64; 2]) -> Option<f64> {
        let [x1, y1] = self.xy;
        let [x2, y2] = p;
        match self.shape {
            Shape::Circle { radius } => {
                let d = distance(x1, y1, x2, y2);
                (d <= radius * self.conversion).then_some(d)
            }
            Shape::Box { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                if lat_distance(y2, y1) > h / 2.0 {
                    return None;
                }
                if distance(x2, y2, x1, y2) > w / 2.0 {
                    return None;
                }
                Some(distance(x1, y1, x2, y2))
            }
        }
    }
}

/// Whether a box is one Redis skips (zeroed neighbour).
pub fn is_skipped(h: &Hash) -> bool {
    h.is_zero()
}

fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// The haversine distance in metres between two points (degrees).
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// The standard 11-character geohash of a stored score (re-encoded over
/// -90..90 latitude, the last character always '0' as Redis outputs it).
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [lon, lat] = decode_score(score);
    let h = encode(
        Range {
            min: -180.0,
            max: 180.0,
        },
        Range {
            min: -90.0,
            max: 90.0,
        },
        lon,
        lat,
        26,
    );
    let mut out = [b'0'; 11];
    for (i, o) in out.iter_mut().enumerate().take(10) {
        let idx = (h.bits >> (52 - (i + 1) * 5)) & 0x1f;
        *o = ALPHABET[idx as usize];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_of_one_one_matches_redis() {
        // GEOADD k 1 1 a; WITHHASH answers 3377822707026402 on Redis 7.0.
        assert_eq!(align52(encode_wgs84(1.0, 1.0, STEP_MAX)), 3377822707026402);
        let [lon, lat] = decode_score(3377822707026402.0);
        assert_eq!(format!("{:.17}", lon), "0.99999994039535522");
        assert_eq!(format!("{:.17}", lat), "0.99999945914297683");
    }

    #[test]
    fn spread_squash_round_trip() {
        for v in [0u32, 1, 0xdead_beef, u32::MAX] {
            assert_eq!(squash(spread(v)), v);
        }
    }
}
