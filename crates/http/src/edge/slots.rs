//! The per-IP connection cap: open connections counted by peer address,
//! shared by all workers. A [`Slot`] is one counted connection; dropping it
//! (when the connection ends, however it ends) gives the count back.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
};

/// Open connections per peer address, up to `max` each (`0`: no cap).
#[derive(Debug, Clone)]
pub(crate) struct Slots {
    max: usize,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One counted connection from `ip`.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Slots,
    ip: IpAddr,
}

impl Slots {
    pub fn new(max: usize) -> Slots {
        Slots { max, counts: Arc::default() }
    }

    /// A slot for a connection from `ip`, or `None` if `ip` holds `max` already.
    pub fn take(&self, ip: IpAddr) -> Option<Slot> {
        let ip = ip.to_canonical();
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(ip).or_insert(0);
        if self.max > 0 && *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot { slots: self.clone(), ip })
    }

    /// Open connections counted for `ip`.
    #[cfg(test)]
    pub fn count(&self, ip: IpAddr) -> usize {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner).get(&ip.to_canonical()).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.slots.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_each_address_and_gives_slots_back() {
        let slots = Slots::new(2);
        let a: IpAddr = [192, 0, 2, 1].into();
        let b: IpAddr = [192, 0, 2, 2].into();
        let first = slots.take(a);
        let second = slots.take(a);
        assert!(first.is_some() && second.is_some());
        assert!(slots.take(a).is_none(), "a third from the same address");
        // An IPv4-mapped IPv6 peer is the same address.
        assert!(slots.take("::ffff:192.0.2.1".parse().unwrap()).is_none());
        assert!(slots.take(b).is_some(), "another address has its own count");
        drop(first);
        assert_eq!(slots.count(a), 1);
        assert!(slots.take(a).is_some());
        drop(second);
    }

    #[test]
    fn zero_is_no_cap() {
        let slots = Slots::new(0);
        let a: IpAddr = [192, 0, 2, 1].into();
        let held: Vec<_> = (0..1000).filter_map(|_| slots.take(a)).collect();
        assert_eq!(held.len(), 1000);
        drop(held);
        assert_eq!(slots.count(a), 0);
    }
}
