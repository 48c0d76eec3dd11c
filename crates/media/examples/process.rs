//! Times the image processor on a phone-sized JPEG: `cargo run --release -p accueil-media
//! --features testing --example process [width height runs]`. Prints one line per run and the
//! median, for docs/performance.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use accueil_domain::memories::ImageFormat;
use accueil_media::testing::jpeg_with_gps;
use accueil_media::{ImageCodec, ImageSettings};
use accueil_ports::media::ImageProcessor;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let (w, h, runs) = match args.as_slice() {
        [w, h, r] => (*w, *h, *r),
        _ => (4032, 3024, 5),
    };
    let upload = jpeg_with_gps(w, h);
    println!("{w}x{h} JPEG, {} bytes", upload.len());
    let codec = ImageCodec::new(ImageSettings::default());
    let mut times = Vec::new();
    for i in 0..runs {
        let started = Instant::now();
        let out = codec
            .process(ImageFormat::Jpeg, upload.clone())
            .await
            .unwrap();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        println!(
            "run {i}: {ms:.0} ms (medium {} bytes, thumb {} bytes)",
            out.medium.bytes.len(),
            out.thumb.bytes.len()
        );
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    println!("median {:.0} ms", times[times.len() / 2]);
}
