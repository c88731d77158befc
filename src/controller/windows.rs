//! Sync windows: when an AppProject lets its Applications sync.
//!
//! A pure evaluator (no cluster, no clock of its own: every question takes
//! `now`), so the controller and `skiff windows` give the same answers and the
//! tests can walk a fake clock across DST changes and month ends.
//!
//! The rules follow Argo CD's `SyncWindows` (`Matches`, `Active`,
//! `InactiveAllows`, `CanSync`):
//!
//! - A window *matches* an Application when the app name matches one of its
//!   `applications` globs OR the destination namespace matches one of its
//!   `namespaces` globs. A window with neither list matches nothing.
//! - A window is *open* at `t` when its latest start at or before `t` (the
//!   cron `schedule` read in `timeZone`, UTC by default) plus `duration` is
//!   after `t`. The duration is elapsed time, so a window over a DST change
//!   lasts exactly as long as written; starts keep their wall-clock time.
//! - Only matching windows count. With none, every sync may run.
//! - An open deny window blocks automated syncs. It lets a manual sync
//!   through only if every open deny window has `manualSync`.
//! - Otherwise an open allow window lets every sync through.
//! - Otherwise, if allow windows match (all closed), automated syncs wait for
//!   one to open; a manual sync goes through only if every one of them has
//!   `manualSync`.
//! - Otherwise (only closed deny windows match) every sync may run.
//!
//! Unlike Argo CD, which shifts the schedule by the zone's offset *now*, the
//! schedule is evaluated in the zone itself, so the wall-clock time holds
//! across DST changes. Where a spring-forward gap swallows a start, croner
//! moves it to the first instant after the gap; where a fall-back repeats a
//! start time, the window opens at its first occurrence only.
//!
//! Schedules have exactly five fields (minute, hour, day of month, month, day
//! of week with Monday = 1 and Sunday = 0 or 7) or are one of `@hourly`,
//! `@daily`, `@weekly`, `@monthly`, `@yearly`, `@annually`. When both day
//! fields are restricted, a day matching either runs (as in Vixie cron).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use globset::{GlobBuilder, GlobMatcher};
use serde::Serialize;

use crate::api::{SyncWindow, SyncWindowKind, parse_duration};

/// How far ahead `closes_at` looks: a window whose back-to-back openings keep
/// it open past this (`* * * * *` for `1h`) reports no close.
const LOOK_AHEAD: TimeDelta = TimeDelta::days(366);
/// The most back-to-back openings followed when looking for a close, so a
/// window that reopens every minute cannot make the search slow.
const MAX_REOPENINGS: usize = 2000;

/// A project's sync windows, validated and ready to answer questions.
#[derive(Clone, Debug, Default)]
pub struct Windows {
    windows: Vec<Window>,
}

/// One window of `syncWindows` is invalid; the message names it by index,
/// with the field and the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowError {
    /// The window's position in `syncWindows`.
    pub index: usize,
    /// The field, e.g. `schedule` or `applications[1]`.
    pub field: String,
    /// What is wrong, quoting the value.
    pub problem: String,
}

impl fmt::Display for WindowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "syncWindows[{}].{}: {}",
            self.index, self.field, self.problem
        )
    }
}

impl std::error::Error for WindowError {}

/// What the windows let an Application do at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Whether an automated sync (including a self-heal) may run.
    pub automated: bool,
    /// Whether a manual sync (`skiff sync`) may run.
    pub manual: bool,
    /// Why automated syncs are blocked; `None` when they are not.
    pub reason: Option<String>,
    /// The next time a matching window opens or closes, when the verdict may
    /// change (the controller requeues then); `None` when no matching window
    /// opens or closes within the look-ahead.
    pub next_change: Option<DateTime<Utc>>,
}

impl Verdict {
    /// Whether a sync of this sort (manual: `skiff sync`; else automated) may run.
    pub fn allows(&self, manual: bool) -> bool {
        if manual { self.manual } else { self.automated }
    }
}

/// One window at one moment, for `skiff windows`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowStatus {
    /// The window's position in `syncWindows`.
    pub index: usize,
    pub kind: SyncWindowKind,
    pub schedule: String,
    pub duration: String,
    /// The zone the schedule is read in (`UTC` when none is given).
    pub time_zone: String,
    pub applications: Vec<String>,
    pub namespaces: Vec<String>,
    pub manual_sync: bool,
    /// Whether the window is open at the moment asked about.
    pub open: bool,
    /// When the window next opens: the next start if it is closed, the first
    /// start after it closes if it is open. `None` if it never opens again
    /// (its duration is zero, or its schedule has no later date).
    pub next_open: Option<DateTime<Utc>>,
    /// When an open window closes; `None` if it is closed, or stays open
    /// through the look-ahead.
    pub closes_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
struct Window {
    index: usize,
    spec: SyncWindow,
    cron: Cron,
    duration: TimeDelta,
    zone: Tz,
    applications: Vec<GlobMatcher>,
    namespaces: Vec<GlobMatcher>,
}

/// Parses and validates every window, so a bad one is reported before any
/// decision is made with the others.
pub fn parse(windows: &[SyncWindow]) -> Result<Windows, WindowError> {
    Windows::parse(windows)
}

impl Windows {
    /// Parses and validates every window: schedule, duration, time zone and globs.
    pub fn parse(windows: &[SyncWindow]) -> Result<Windows, WindowError> {
        let windows = windows
            .iter()
            .enumerate()
            .map(|(index, spec)| Window::parse(index, spec))
            .collect::<Result<_, _>>()?;
        Ok(Windows { windows })
    }

    /// Whether the project has no windows at all.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// The indexes of the windows that apply to an Application named `app`
    /// deploying to `namespace`.
    pub fn matching(&self, app: &str, namespace: &str) -> Vec<usize> {
        self.matching_windows(app, namespace)
            .map(|w| w.index)
            .collect()
    }

    fn matching_windows<'a>(
        &'a self,
        app: &'a str,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a Window> + 'a {
        self.windows
            .iter()
            .filter(move |w| w.matches(app, namespace))
    }

    /// Whether the Application `app`, deploying to the destination namespace
    /// `namespace`, may sync at `now`, automated and manually, and when that
    /// may change.
    pub fn verdict(&self, app: &str, namespace: &str, now: DateTime<Utc>) -> Verdict {
        let matching: Vec<&Window> = self.matching_windows(app, namespace).collect();
        let (open, closed): (Vec<&Window>, Vec<&Window>) =
            matching.iter().partition(|w| w.open_at(now));
        let next_change = matching
            .iter()
            .filter_map(|w| {
                if open.iter().any(|o| o.index == w.index) {
                    w.closes_at(now)
                } else {
                    w.next_start(now)
                }
            })
            .min();
        let open_denies: Vec<&Window> = open
            .iter()
            .copied()
            .filter(|w| w.spec.kind == SyncWindowKind::Deny)
            .collect();
        if let Some(first) = open_denies.first() {
            let until = match first.closes_at(now) {
                Some(t) => format!("open until {}", rfc3339(t)),
                None => "open with no close within a year".to_owned(),
            };
            return Verdict {
                automated: false,
                manual: open_denies.iter().all(|w| w.spec.manual_sync),
                reason: Some(format!("{} {until}", first.label())),
                next_change,
            };
        }
        if open.iter().any(|w| w.spec.kind == SyncWindowKind::Allow) {
            return Verdict {
                automated: true,
                manual: true,
                reason: None,
                next_change,
            };
        }
        let closed_allows: Vec<&Window> = closed
            .iter()
            .copied()
            .filter(|w| w.spec.kind == SyncWindowKind::Allow)
            .collect();
        if closed_allows.is_empty() {
            return Verdict {
                automated: true,
                manual: true,
                reason: None,
                next_change,
            };
        }
        let soonest = closed_allows
            .iter()
            .filter_map(|w| w.next_start(now).map(|t| (t, *w)))
            .min_by_key(|(t, w)| (*t, w.index));
        let reason = match soonest {
            Some((t, w)) => format!(
                "outside every allow window; {} opens at {}",
                w.label(),
                rfc3339(t)
            ),
            None => "outside every allow window; none opens within a year".to_owned(),
        };
        Verdict {
            automated: false,
            manual: closed_allows.iter().all(|w| w.spec.manual_sync),
            reason: Some(reason),
            next_change,
        }
    }

    /// Every window as it stands at `now`, in `syncWindows` order.
    pub fn status(&self, now: DateTime<Utc>) -> Vec<WindowStatus> {
        self.windows.iter().map(|w| w.status(now)).collect()
    }
}

impl Window {
    fn parse(index: usize, spec: &SyncWindow) -> Result<Window, WindowError> {
        let error = |field: &str, problem: String| WindowError {
            index,
            field: field.to_owned(),
            problem,
        };
        let cron = parse_schedule(&spec.schedule).map_err(|p| error("schedule", p))?;
        let duration = parse_duration(&spec.duration)
            .ok()
            .and_then(|d| TimeDelta::from_std(d).ok())
            .ok_or_else(|| {
                error(
                    "duration",
                    format!(
                        "invalid duration {:?} (want e.g. \"8h\", \"90m\", \"1h30m\")",
                        spec.duration
                    ),
                )
            })?;
        let zone = match spec.time_zone.as_deref().filter(|z| !z.is_empty()) {
            None => Tz::UTC,
            Some(name) => Tz::from_str(name)
                .map_err(|_| error("timeZone", format!("unknown time zone {name:?}")))?,
        };
        let globs = |field: &str, patterns: &[String]| {
            patterns
                .iter()
                .enumerate()
                .map(|(i, p)| glob(p).map_err(|e| error(&format!("{field}[{i}]"), e)))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Window {
            index,
            spec: spec.clone(),
            cron,
            duration,
            zone,
            applications: globs("applications", &spec.applications)?,
            namespaces: globs("namespaces", &spec.namespaces)?,
        })
    }

    fn matches(&self, app: &str, namespace: &str) -> bool {
        self.applications.iter().any(|g| g.is_match(app))
            || self.namespaces.iter().any(|g| g.is_match(namespace))
    }

    /// The latest start at or before `t`.
    fn latest_start(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&t.with_timezone(&self.zone), true)
            .ok()
            .map(|s| s.with_timezone(&Utc))
    }

    /// When an opening at `start` ends; `None` past the last date chrono
    /// represents (a duration of millions of years), which never comes.
    fn end(&self, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        start.checked_add_signed(self.duration)
    }

    /// The first start after `t`.
    fn next_start(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.duration <= TimeDelta::zero() {
            // It would open and close in the same instant: never open.
            return None;
        }
        self.cron
            .find_next_occurrence(&t.with_timezone(&self.zone), false)
            .ok()
            .map(|s| s.with_timezone(&Utc))
    }

    fn open_at(&self, t: DateTime<Utc>) -> bool {
        self.latest_start(t)
            .is_some_and(|start| self.end(start).is_none_or(|end| end > t))
    }

    /// When the window, open at `now`, closes: the end of the last of the
    /// openings that follow each other without a gap.
    fn closes_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut start = self.latest_start(now)?;
        let mut end = self.end(start)?;
        if end <= now {
            return None;
        }
        for _ in 0..MAX_REOPENINGS {
            if end - now > LOOK_AHEAD {
                return None;
            }
            // Open at `end` only if it starts again in (start, end].
            match self.latest_start(end) {
                Some(again) if again > start => {
                    start = again;
                    end = self.end(again)?;
                }
                _ => return Some(end),
            }
        }
        None
    }

    fn status(&self, now: DateTime<Utc>) -> WindowStatus {
        let open = self.open_at(now);
        let closes_at = if open { self.closes_at(now) } else { None };
        let next_open = match (open, closes_at) {
            (false, _) => self.next_start(now),
            (true, Some(close)) => self.next_start(close),
            (true, None) => None,
        };
        WindowStatus {
            index: self.index,
            kind: self.spec.kind,
            schedule: self.spec.schedule.clone(),
            duration: self.spec.duration.clone(),
            time_zone: self.zone.name().to_owned(),
            applications: self.spec.applications.clone(),
            namespaces: self.spec.namespaces.clone(),
            manual_sync: self.spec.manual_sync,
            open,
            next_open,
            closes_at,
        }
    }

    /// `deny window 0 9 * * 1-5 (8h, Europe/Paris)`, as messages name it.
    fn label(&self) -> String {
        let kind = match self.spec.kind {
            SyncWindowKind::Allow => "allow",
            SyncWindowKind::Deny => "deny",
        };
        format!(
            "{kind} window {} ({}, {})",
            self.spec.schedule.trim(),
            self.spec.duration.trim(),
            self.zone.name()
        )
    }
}

/// A 5-field cron expression or an `@daily`-style alias. croner alone would
/// also take 6- and 7-field expressions (seconds, years), which Argo CD does not.
fn parse_schedule(schedule: &str) -> Result<Cron, String> {
    let fields = schedule.split_whitespace().count();
    let alias = schedule.trim_start().starts_with('@');
    if !alias && fields != 5 {
        return Err(format!(
            "{schedule:?} has {fields} fields; want 5 (minute hour day-of-month month day-of-week) or an alias such as @daily"
        ));
    }
    let cron = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(schedule)
        .map_err(|e| format!("invalid schedule {schedule:?}: {e}"))?;
    // `0 0 30 2 *` parses but names no real date: such a window would never
    // open, and every search for it would run to croner's limit.
    if cron
        .find_next_occurrence(&DateTime::<Utc>::UNIX_EPOCH, false)
        .is_err()
    {
        return Err(format!("schedule {schedule:?} never matches a date"));
    }
    Ok(cron)
}

/// Argo CD's globs: `*` and `?` and `[...]`; names have no separators.
fn glob(pattern: &str) -> Result<GlobMatcher, String> {
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("invalid glob {pattern:?}: {}", e.kind()))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A UTC instant, the fake clock every test passes as `now`.
    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid time")
    }

    fn window(kind: SyncWindowKind, schedule: &str, duration: &str) -> SyncWindow {
        SyncWindow {
            kind,
            schedule: schedule.into(),
            duration: duration.into(),
            applications: vec!["*".into()],
            ..SyncWindow::default()
        }
    }

    fn allow(schedule: &str, duration: &str) -> SyncWindow {
        window(SyncWindowKind::Allow, schedule, duration)
    }

    fn deny(schedule: &str, duration: &str) -> SyncWindow {
        window(SyncWindowKind::Deny, schedule, duration)
    }

    fn in_zone(mut w: SyncWindow, zone: &str) -> SyncWindow {
        w.time_zone = Some(zone.into());
        w
    }

    fn one(w: SyncWindow, now: DateTime<Utc>) -> WindowStatus {
        let windows = Windows::parse(&[w]).expect("valid window");
        windows.status(now).remove(0)
    }

    fn error(w: SyncWindow) -> String {
        let windows = [allow("@daily", "1h"), w];
        Windows::parse(&windows)
            .expect_err("invalid window")
            .to_string()
    }

    #[test]
    fn weekdays_one_to_five_are_monday_to_friday() {
        // 2026-11-23 is a Monday.
        let w = allow("0 9 * * 1-5", "8h");
        let monday = one(w.clone(), utc(2026, 11, 23, 10, 0));
        assert!(monday.open);
        assert_eq!(monday.closes_at, Some(utc(2026, 11, 23, 17, 0)));
        assert_eq!(monday.next_open, Some(utc(2026, 11, 24, 9, 0)));
        let friday = one(w.clone(), utc(2026, 11, 27, 16, 59));
        assert!(friday.open);
        let saturday = one(w.clone(), utc(2026, 11, 28, 10, 0));
        assert!(!saturday.open);
        assert_eq!(saturday.closes_at, None);
        assert_eq!(saturday.next_open, Some(utc(2026, 11, 30, 9, 0)));
        // Sunday is 0 and 7.
        for sunday in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN"] {
            let s = one(allow(sunday, "1h"), utc(2026, 11, 23, 12, 0));
            assert_eq!(s.next_open, Some(utc(2026, 11, 29, 9, 0)), "{sunday}");
        }
    }

    #[test]
    fn daily_alias_opens_at_midnight() {
        let w = allow("@daily", "1h");
        let at_start = one(w.clone(), utc(2026, 11, 26, 0, 0));
        assert!(at_start.open, "open at the very start");
        assert_eq!(at_start.closes_at, Some(utc(2026, 11, 26, 1, 0)));
        let at_end = one(w, utc(2026, 11, 26, 1, 0));
        assert!(!at_end.open, "closed at the very end");
        assert_eq!(at_end.next_open, Some(utc(2026, 11, 27, 0, 0)));
    }

    #[test]
    fn other_aliases() {
        // Thursday 2026-11-26 10:20 UTC.
        let now = utc(2026, 11, 26, 10, 20);
        let cases = [
            ("@hourly", utc(2026, 11, 26, 11, 0)),
            ("@weekly", utc(2026, 11, 29, 0, 0)),
            ("@monthly", utc(2026, 12, 1, 0, 0)),
            ("@yearly", utc(2027, 1, 1, 0, 0)),
            ("@annually", utc(2027, 1, 1, 0, 0)),
            ("@DAILY", utc(2026, 11, 27, 0, 0)),
        ];
        for (alias, want) in cases {
            let s = one(allow(alias, "10m"), now);
            assert_eq!(s.next_open, Some(want), "{alias}");
        }
    }

    #[test]
    fn spring_forward_keeps_wall_clock_times() {
        // Paris, 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
        let w = in_zone(allow("30 2 * * *", "1h"), "Europe/Paris");
        let before = one(w.clone(), utc(2026, 3, 28, 0, 0));
        assert_eq!(before.next_open, Some(utc(2026, 3, 28, 1, 30)), "02:30 CET");
        let gap_day = one(w.clone(), utc(2026, 3, 28, 12, 0));
        // The start swallowed by the gap runs at the first instant after it.
        assert_eq!(
            gap_day.next_open,
            Some(utc(2026, 3, 29, 1, 0)),
            "03:00 CEST"
        );
        let inside = one(w.clone(), utc(2026, 3, 29, 1, 30));
        assert!(inside.open);
        assert_eq!(inside.closes_at, Some(utc(2026, 3, 29, 2, 0)));
        assert_eq!(
            inside.next_open,
            Some(utc(2026, 3, 30, 0, 30)),
            "02:30 CEST"
        );

        // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        let w = in_zone(allow("30 2 * * *", "1h"), "America/New_York");
        let gap_day = one(w.clone(), utc(2026, 3, 8, 0, 0));
        assert_eq!(gap_day.next_open, Some(utc(2026, 3, 8, 7, 0)), "03:00 EDT");
        let after = one(w, utc(2026, 3, 8, 12, 0));
        assert_eq!(after.next_open, Some(utc(2026, 3, 9, 6, 30)), "02:30 EDT");
        // A window before the gap is not touched by it.
        let w = in_zone(allow("0 9 * * *", "8h"), "America/New_York");
        let s = one(w, utc(2026, 3, 8, 12, 0));
        assert_eq!(s.next_open, Some(utc(2026, 3, 8, 13, 0)), "09:00 EDT");
    }

    #[test]
    fn fall_back_windows_last_their_elapsed_duration() {
        // Paris, 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:00-03:00 happens twice.
        let w = in_zone(deny("0 2 * * *", "2h"), "Europe/Paris");
        let first_pass = one(w.clone(), utc(2026, 10, 25, 0, 30));
        assert!(first_pass.open);
        // Two hours of real time: 02:00 CEST to 03:00 CET.
        assert_eq!(first_pass.closes_at, Some(utc(2026, 10, 25, 2, 0)));
        let second_pass = one(w.clone(), utc(2026, 10, 25, 1, 30));
        assert!(second_pass.open, "02:30 CET, the repeated hour");
        assert_eq!(second_pass.closes_at, Some(utc(2026, 10, 25, 2, 0)));
        let after = one(w, utc(2026, 10, 25, 2, 0));
        assert!(!after.open);
        assert_eq!(after.next_open, Some(utc(2026, 10, 26, 1, 0)), "02:00 CET");

        // New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST.
        let w = in_zone(deny("30 0 * * *", "2h"), "America/New_York");
        let s = one(w, utc(2026, 11, 1, 5, 0));
        assert!(s.open);
        // 00:30 EDT + 2h = 01:30 EST, one wall-clock hour later.
        assert_eq!(s.closes_at, Some(utc(2026, 11, 1, 6, 30)));

        // A start inside the repeated hour opens once, at its first pass.
        let w = in_zone(allow("30 1 * * *", "10m"), "America/New_York");
        let first = one(w.clone(), utc(2026, 11, 1, 5, 35));
        assert!(first.open, "01:35 EDT");
        let repeat = one(w.clone(), utc(2026, 11, 1, 6, 35));
        assert!(!repeat.open, "01:35 EST");
        assert_eq!(repeat.next_open, Some(utc(2026, 11, 2, 6, 30)));
        let before = one(w, utc(2026, 11, 1, 0, 0));
        assert_eq!(before.next_open, Some(utc(2026, 11, 1, 5, 30)));
    }

    #[test]
    fn month_ends() {
        let w = allow("0 0 31 * *", "24h");
        let april = one(w.clone(), utc(2026, 4, 15, 0, 0));
        assert_eq!(april.next_open, Some(utc(2026, 5, 31, 0, 0)), "no 31 April");
        let may = one(w.clone(), utc(2026, 5, 31, 12, 0));
        assert!(may.open);
        assert_eq!(may.closes_at, Some(utc(2026, 6, 1, 0, 0)));
        assert_eq!(may.next_open, Some(utc(2026, 7, 31, 0, 0)), "no 31 June");
        let june = one(w, utc(2026, 6, 30, 12, 0));
        assert!(!june.open);

        let leap = allow("0 0 29 2 *", "24h");
        let s = one(leap.clone(), utc(2027, 1, 1, 0, 0));
        assert_eq!(s.next_open, Some(utc(2028, 2, 29, 0, 0)));
        let s = one(leap, utc(2028, 2, 29, 23, 59));
        assert!(s.open);
        assert_eq!(s.closes_at, Some(utc(2028, 3, 1, 0, 0)));
        assert_eq!(s.next_open, Some(utc(2032, 2, 29, 0, 0)));
    }

    #[test]
    fn back_to_back_openings_close_at_the_last_end() {
        let w = allow("0 9,10 * * *", "1h");
        let s = one(w, utc(2026, 11, 26, 9, 30));
        assert_eq!(s.closes_at, Some(utc(2026, 11, 26, 11, 0)));
        assert_eq!(s.next_open, Some(utc(2026, 11, 27, 9, 0)));
        let always = one(allow("* * * * *", "1h"), utc(2026, 11, 26, 9, 30));
        assert!(always.open);
        assert_eq!((always.closes_at, always.next_open), (None, None));
    }

    #[test]
    fn no_windows_or_none_matching_allow_everything() {
        let now = utc(2026, 11, 26, 3, 0);
        let none = Windows::parse(&[]).expect("valid");
        let want = Verdict {
            automated: true,
            manual: true,
            reason: None,
            next_change: None,
        };
        assert_eq!(none.verdict("web", "prod", now), want);
        let mut other = allow("0 9 * * *", "1h");
        other.applications = vec!["billing-*".into()];
        other.namespaces = vec!["finance".into()];
        let windows = Windows::parse(&[other]).expect("valid");
        assert_eq!(windows.verdict("web", "prod", now), want);
        assert!(windows.matching("web", "prod").is_empty());
    }

    #[test]
    fn a_window_matches_by_application_or_namespace() {
        let by_app = SyncWindow {
            applications: vec!["web-?".into(), "api".into()],
            ..allow("@daily", "1h")
        };
        let by_namespace = SyncWindow {
            applications: vec![],
            namespaces: vec!["team-[ab]".into()],
            ..allow("@daily", "1h")
        };
        let neither = SyncWindow {
            applications: vec![],
            ..allow("@daily", "1h")
        };
        let windows = Windows::parse(&[by_app, by_namespace, neither]).expect("valid");
        assert_eq!(windows.matching("web-1", "x"), vec![0]);
        assert_eq!(windows.matching("api", "team-b"), vec![0, 1]);
        assert_eq!(windows.matching("web-10", "team-a"), vec![1]);
        assert!(windows.matching("web-10", "team-c").is_empty());
    }

    #[test]
    fn closed_allow_windows_hold_automated_syncs() {
        let w = in_zone(allow("0 9 * * 1-5", "8h"), "Europe/Paris");
        let windows = Windows::parse(std::slice::from_ref(&w)).expect("valid");
        // Thursday 2026-11-26 18:00 UTC is 19:00 in Paris, after the window.
        let v = windows.verdict("web", "prod", utc(2026, 11, 26, 18, 0));
        assert!(!v.automated && !v.manual);
        assert_eq!(
            v.reason.as_deref(),
            Some(
                "outside every allow window; allow window 0 9 * * 1-5 (8h, Europe/Paris) \
                 opens at 2026-11-27T08:00:00Z"
            )
        );
        assert_eq!(v.next_change, Some(utc(2026, 11, 27, 8, 0)));
        let v = windows.verdict("web", "prod", utc(2026, 11, 27, 8, 0));
        assert!(v.automated && v.manual && v.reason.is_none());
        assert_eq!(v.next_change, Some(utc(2026, 11, 27, 16, 0)));

        // Manual syncs pass only if every closed allow window says so.
        let manual = SyncWindow {
            manual_sync: true,
            ..w.clone()
        };
        let windows = Windows::parse(std::slice::from_ref(&manual)).expect("valid");
        let v = windows.verdict("web", "prod", utc(2026, 11, 26, 18, 0));
        assert!(!v.automated && v.manual);
        let windows = Windows::parse(&[manual, allow("0 3 * * *", "1h")]).expect("valid");
        let v = windows.verdict("web", "prod", utc(2026, 11, 26, 18, 0));
        assert!(!v.automated && !v.manual);
        assert_eq!(v.next_change, Some(utc(2026, 11, 27, 3, 0)));
    }

    #[test]
    fn deny_wins_over_an_overlapping_allow() {
        let office_hours = allow("0 8 * * *", "10h");
        let freeze = SyncWindow {
            applications: vec![],
            namespaces: vec!["prod".into()],
            manual_sync: true,
            ..deny("0 12 * * *", "1h")
        };
        let windows = Windows::parse(&[office_hours, freeze.clone()]).expect("valid");
        let noon = utc(2026, 11, 26, 12, 30);

        let v = windows.verdict("web", "prod", noon);
        assert!(!v.automated, "deny wins");
        assert!(!v.allows(false) && v.allows(true));
        assert!(v.manual, "the deny window has manualSync");
        assert_eq!(
            v.reason.as_deref(),
            Some("deny window 0 12 * * * (1h, UTC) open until 2026-11-26T13:00:00Z")
        );
        assert_eq!(v.next_change, Some(utc(2026, 11, 26, 13, 0)));

        let v = windows.verdict("web", "dev", noon);
        assert!(v.automated && v.manual, "the freeze is for prod only");
        assert_eq!(v.next_change, Some(utc(2026, 11, 26, 18, 0)));

        let v = windows.verdict("web", "prod", utc(2026, 11, 26, 13, 30));
        assert!(v.automated && v.manual);
        assert_eq!(v.next_change, Some(utc(2026, 11, 26, 18, 0)));

        let v = windows.verdict("web", "prod", utc(2026, 11, 26, 19, 0));
        assert!(!v.automated && !v.manual, "outside office hours");
        assert_eq!(v.next_change, Some(utc(2026, 11, 27, 8, 0)));

        // A second open deny window without manualSync blocks manual syncs too.
        let strict = deny("0 11 * * *", "3h");
        let windows = Windows::parse(&[freeze, strict]).expect("valid");
        let v = windows.verdict("web", "prod", noon);
        assert!(!v.automated && !v.manual);
        assert_eq!(v.next_change, Some(utc(2026, 11, 26, 13, 0)));
        let v = windows.verdict("web", "dev", noon);
        assert!(!v.automated && !v.manual);
        assert_eq!(v.next_change, Some(utc(2026, 11, 26, 14, 0)));
    }

    #[test]
    fn closed_deny_windows_allow_everything() {
        let windows = Windows::parse(&[deny("0 12 * * *", "1h")]).expect("valid");
        let v = windows.verdict("web", "prod", utc(2026, 11, 26, 9, 0));
        assert!(v.automated && v.manual && v.reason.is_none());
        assert_eq!(v.next_change, Some(utc(2026, 11, 26, 12, 0)));
    }

    #[test]
    fn invalid_windows_are_named_by_index_field_and_value() {
        let cases = [
            (
                allow("0 0 9 * * 1", "1h"),
                "syncWindows[1].schedule: \"0 0 9 * * 1\" has 6 fields; want 5",
            ),
            (
                allow("0 9 * *", "1h"),
                "syncWindows[1].schedule: \"0 9 * *\" has 4 fields",
            ),
            (
                allow("0 25 * * *", "1h"),
                "syncWindows[1].schedule: invalid schedule \"0 25 * * *\"",
            ),
            (
                allow("@sometimes", "1h"),
                "syncWindows[1].schedule: invalid schedule \"@sometimes\"",
            ),
            (
                allow("0 0 30 2 *", "1h"),
                "syncWindows[1].schedule: schedule \"0 0 30 2 *\" never matches a date",
            ),
            (
                allow("@daily", "8x"),
                "syncWindows[1].duration: invalid duration \"8x\"",
            ),
            (
                allow("@daily", "99999999999999999999h"),
                "syncWindows[1].duration: invalid duration \"99999999999999999999h\"",
            ),
            (
                allow("@daily", ""),
                "syncWindows[1].duration: invalid duration \"\"",
            ),
            (
                in_zone(allow("@daily", "1h"), "Europe/Pariss"),
                "syncWindows[1].timeZone: unknown time zone \"Europe/Pariss\"",
            ),
            (
                SyncWindow {
                    applications: vec!["web".into(), "[web".into()],
                    ..allow("@daily", "1h")
                },
                "syncWindows[1].applications[1]: invalid glob \"[web\"",
            ),
            (
                SyncWindow {
                    namespaces: vec!["{a".into()],
                    ..allow("@daily", "1h")
                },
                "syncWindows[1].namespaces[0]: invalid glob \"{a\"",
            ),
        ];
        for (w, want) in cases {
            let got = error(w);
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
    }

    #[test]
    fn a_real_clock_with_fractions_of_a_second() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&Utc)
        };
        let w = allow("0 9 * * *", "1h");
        let before = one(w.clone(), at("2026-11-26T08:59:59.900Z"));
        assert!(!before.open);
        assert_eq!(before.next_open, Some(utc(2026, 11, 26, 9, 0)));
        let after = one(w, at("2026-11-26T09:00:00.400Z"));
        assert!(after.open);
        assert_eq!(after.closes_at, Some(utc(2026, 11, 26, 10, 0)));
    }

    #[test]
    fn durations_in_go_syntax() {
        let s = one(allow("0 0 * * *", "1h30m"), utc(2026, 11, 26, 1, 0));
        assert_eq!(s.closes_at, Some(utc(2026, 11, 26, 1, 30)));
        let s = one(allow("0 0 * * *", "90m"), utc(2026, 11, 26, 1, 0));
        assert_eq!(s.closes_at, Some(utc(2026, 11, 26, 1, 30)));
        // A window that outlasts the calendar never closes.
        let s = one(allow("@yearly", "99999999999h"), utc(2026, 11, 26, 1, 0));
        assert_eq!((s.open, s.closes_at), (true, None));
        // A window that lasts no time never opens.
        let s = one(allow("* * * * *", "0s"), utc(2026, 11, 26, 1, 0));
        assert_eq!((s.open, s.next_open, s.closes_at), (false, None, None));
    }
}
