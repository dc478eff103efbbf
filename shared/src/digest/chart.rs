//! The 14-day success-rate chart of a domain, drawn as a small PNG bar chart.
//!
//! The image holds bars only, no text: the scale and the figures go into the
//! HTML around it and into its `alt` text, where mail clients render them in
//! the reader's font and screen readers can read them. One bar per day, oldest
//! on the left; a day without a stored digest or without sessions is a grey
//! stub. Bars are green at 99.5% and above, amber from 95%, red below.

use chrono::NaiveDate;

use super::{percent, DayPoint, HISTORY_DAYS};

/// Width of the image in pixels.
pub const WIDTH: u32 = 14 * BAR_STEP + 2 * MARGIN;
/// Height of the image in pixels.
pub const HEIGHT: u32 = 64;

const BAR_STEP: u32 = 20;
const BAR_WIDTH: u32 = 14;
const MARGIN: u32 = 4;

const WHITE: [u8; 3] = [255, 255, 255];
const GRID: [u8; 3] = [225, 228, 232];
const STUB: [u8; 3] = [200, 204, 210];
const GREEN: [u8; 3] = [46, 160, 67];
const AMBER: [u8; 3] = [219, 140, 20];
const RED: [u8; 3] = [207, 34, 46];

/// A drawn chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The PNG file.
    pub png: Vec<u8>,
    /// The success rate at the bottom of the scale, in percent (the top is 100).
    pub floor: f64,
    /// A text version of the chart for `alt` and for readers without images.
    pub alt: String,
}

/// The chart could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("could not encode the chart: {0}")]
pub struct ChartError(#[from] png::EncodingError);

/// The bottom of the scale: the lowest rate rounded down to a multiple of 10,
/// at most 90, so that the usual 99.x% days still show their differences.
pub fn scale_floor(rates: impl IntoIterator<Item = f64>) -> f64 {
    let min = rates.into_iter().fold(100.0_f64, f64::min);
    ((min - 0.5) / 10.0).floor().clamp(0.0, 9.0) * 10.0
}

/// Colour of a bar for a success rate.
fn colour(rate: f64) -> [u8; 3] {
    if rate >= 99.5 {
        GREEN
    } else if rate >= 95.0 {
        AMBER
    } else {
        RED
    }
}

/// Draws the 14 days ending with `day` from `history` (points on other days
/// are ignored).
pub fn draw(day: NaiveDate, history: &[DayPoint]) -> Result<Chart, ChartError> {
    let slots: Vec<(NaiveDate, Option<f64>)> = (0..=HISTORY_DAYS)
        .rev()
        .map(|back| {
            let d = day - chrono::Days::new(u64::from(back));
            let ds = d.to_string();
            let rate = history.iter().find(|p| p.day == ds).and_then(|p| p.success_rate);
            (d, rate)
        })
        .collect();
    let floor = scale_floor(slots.iter().filter_map(|(_, r)| *r));

    let (w, h) = (WIDTH as usize, HEIGHT as usize);
    let mut px = vec![0u8; w * h * 3];
    let mut fill = |x0: usize, y0: usize, x1: usize, y1: usize, c: [u8; 3]| {
        for y in y0..y1.min(h) {
            for x in x0..x1.min(w) {
                let i = (y * w + x) * 3;
                px[i..i + 3].copy_from_slice(&c);
            }
        }
    };
    fill(0, 0, w, h, WHITE);
    let top = MARGIN as usize;
    let bottom = h - MARGIN as usize;
    // Grid lines at the top (100%) and the bottom (the floor) of the scale.
    fill(MARGIN as usize, top, w - MARGIN as usize, top + 1, GRID);
    fill(MARGIN as usize, bottom, w - MARGIN as usize, bottom + 1, GRID);
    let span = (bottom - top) as f64;
    for (i, (_, rate)) in slots.iter().enumerate() {
        let x0 = MARGIN as usize + i * BAR_STEP as usize + ((BAR_STEP - BAR_WIDTH) / 2) as usize;
        let x1 = x0 + BAR_WIDTH as usize;
        match rate {
            Some(r) => {
                let frac = ((r - floor) / (100.0 - floor)).clamp(0.0, 1.0);
                // At least 2 pixels, so a day at the floor still shows red.
                let height = ((frac * span).round() as usize).max(2);
                fill(x0, bottom - height, x1, bottom, colour(*r));
            }
            None => fill(x0, bottom - 2, x1, bottom, STUB),
        }
    }

    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(&px)?;
        writer.finish()?;
    }

    let figures: Vec<String> = slots
        .iter()
        .map(|(d, r)| {
            let label = d.format("%m-%d");
            match r {
                Some(r) => format!("{label} {}%", percent(*r)),
                None => format!("{label} -"),
            }
        })
        .collect();
    let alt = format!(
        "TLS success rate per day, scale {}-100%: {}",
        floor,
        figures.join(", ")
    );
    Ok(Chart {
        png: png_bytes,
        floor,
        alt,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn point(day: &str, ok: u64, failed: u64) -> DayPoint {
        DayPoint {
            day: day.into(),
            reports: 1,
            successful: ok,
            failed,
            success_rate: super::super::rate(ok, failed),
        }
    }

    #[test]
    fn floor_keeps_the_usual_days_readable() {
        assert_eq!(scale_floor([]), 90.0);
        assert_eq!(scale_floor([100.0, 99.2]), 90.0);
        assert_eq!(scale_floor([97.0]), 90.0);
        assert_eq!(scale_floor([85.0, 100.0]), 80.0);
        assert_eq!(scale_floor([0.0]), 0.0);
    }

    #[test]
    fn draws_a_decodable_png_with_bars_where_data_is() {
        let day = NaiveDate::from_ymd_opt(2024, 11, 8).unwrap();
        let c = draw(
            day,
            &[
                point("2024-11-08", 90, 10),
                point("2024-11-07", 100, 0),
                point("2020-01-01", 1, 1),
            ],
        )
        .unwrap();
        assert_eq!(c.floor, 80.0);
        assert!(c.alt.contains("11-08 90.0%"), "{}", c.alt);
        assert!(c.alt.contains("11-07 100.0%"));
        assert!(c.alt.contains("10-26 -"), "{}", c.alt);
        let decoder = png::Decoder::new(std::io::Cursor::new(&c.png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        // The last bar (today, 90% on an 80-100 scale) is red and half high;
        // the one before is a full green bar.
        let at = |x: u32, y: u32| {
            let i = ((y * WIDTH + x) * 3) as usize;
            [buf[i], buf[i + 1], buf[i + 2]]
        };
        let centre = |slot: u32| MARGIN + slot * BAR_STEP + BAR_STEP / 2;
        assert_eq!(at(centre(13), HEIGHT - MARGIN - 2), RED);
        assert_eq!(at(centre(13), MARGIN + 5), WHITE);
        assert_eq!(at(centre(12), MARGIN + 1), GREEN);
        assert_eq!(at(centre(0), HEIGHT - MARGIN - 1), STUB);
        assert_eq!(at(centre(0), HEIGHT - MARGIN - 3), WHITE);
    }
}
