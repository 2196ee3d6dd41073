//! Embedding the calendar: build it once, then compute appointments.
//!
//! `cargo run -p motcua-examples --example due_dates`

use motcua_calendar::{CalendarError, Limit, WorkCalendar};

fn main() -> Result<(), CalendarError> {
    // Build once for the years you serve; every query afterwards is O(1) or O(log n).
    let cal = WorkCalendar::builder().years(2024, 2027).build()?;
    let cases = [
        ("2025-01-24T16:40", "3 working days"),
        ("2024-04-26T14:00", "2 working days"),
        ("2024-05-03T16:00", "1 working day"),
        ("2025-03-29T10:00", "30 days"),
    ];
    for (received, limit) in cases {
        let limit: Limit = limit.parse()?;
        let a = cal.appointment(received.parse()?, limit)?;
        let due = a.due.map(|d| d.to_string()).unwrap_or_else(|| "none".into());
        println!("received {received}, {limit:<15} → clock starts {}, due {due}", a.clock_start);
    }
    // How much working time did an officer have between two instants?
    let minutes = cal.working_minutes_between("2025-01-24T09:00".parse()?, "2025-02-04T09:00".parse()?)?;
    println!("24/1/2025 09:00 → 4/2/2025 09:00: {} working hours (Tết in between)", minutes as f64 / 60.0);
    Ok(())
}
