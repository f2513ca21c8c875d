//! The fair local queue: jobs waiting for an upstream slot are served round-robin across
//! servers, then across members within a server, then in order for one member.

use std::collections::{HashMap, VecDeque};

use crate::ids::{GuildId, MemberId};
use crate::jobs::model::JobId;

/// A snapshot of the lanes, for replaying the serving order.
type Lanes<'a> = VecDeque<(GuildId, VecDeque<(MemberId, VecDeque<&'a JobId>)>)>;

#[derive(Debug, Default)]
pub struct FairQueue {
    /// Servers in serving order; the front is served next.
    guilds: VecDeque<GuildId>,
    per_guild: HashMap<GuildId, GuildLane>,
    len: usize,
}

#[derive(Debug, Default)]
struct GuildLane {
    members: VecDeque<MemberId>,
    per_member: HashMap<MemberId, VecDeque<JobId>>,
}

impl FairQueue {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, guild: GuildId, member: MemberId, job: JobId) {
        let lane = self.per_guild.entry(guild).or_insert_with(|| {
            self.guilds.push_back(guild);
            GuildLane::default()
        });
        let jobs = lane.per_member.entry(member).or_insert_with(|| {
            lane.members.push_back(member);
            VecDeque::new()
        });
        jobs.push_back(job);
        self.len += 1;
    }

    /// Puts a job back at the head of its member's line (an upstream slot was refused).
    pub fn push_front(&mut self, guild: GuildId, member: MemberId, job: JobId) {
        self.push(guild, member, job.clone());
        let lane = self.per_guild.get_mut(&guild).expect("just pushed");
        let jobs = lane.per_member.get_mut(&member).expect("just pushed");
        jobs.pop_back();
        jobs.push_front(job);
    }

    /// The next job in round-robin order.
    pub fn pop(&mut self) -> Option<JobId> {
        let guild = self.guilds.pop_front()?;
        let lane = self
            .per_guild
            .get_mut(&guild)
            .expect("every listed guild has a lane");
        let member = lane
            .members
            .pop_front()
            .expect("a listed guild has members");
        let jobs = lane
            .per_member
            .get_mut(&member)
            .expect("a listed member has jobs");
        let job = jobs.pop_front().expect("a listed member has a job");
        if jobs.is_empty() {
            lane.per_member.remove(&member);
        } else {
            lane.members.push_back(member);
        }
        if lane.members.is_empty() {
            self.per_guild.remove(&guild);
        } else {
            self.guilds.push_back(guild);
        }
        self.len -= 1;
        Some(job)
    }

    /// Removes a job wherever it waits, looking through every line. Returns whether it was
    /// there. [`FairQueue::remove_from`] is the quick way when the job's line is known.
    pub fn remove(&mut self, job: &JobId) -> bool {
        let found = self.per_guild.iter().find_map(|(guild, lane)| {
            lane.per_member
                .iter()
                .find(|(_, jobs)| jobs.contains(job))
                .map(|(member, _)| (*guild, *member))
        });
        found.is_some_and(|(guild, member)| self.remove_from(guild, member, job))
    }

    /// Removes a job from the line of `member` in `guild`: O(length of that line).
    pub fn remove_from(&mut self, guild: GuildId, member: MemberId, job: &JobId) -> bool {
        let Some(lane) = self.per_guild.get_mut(&guild) else {
            return false;
        };
        let Some(jobs) = lane.per_member.get_mut(&member) else {
            return false;
        };
        let Some(i) = jobs.iter().position(|j| j == job) else {
            return false;
        };
        jobs.remove(i);
        self.len -= 1;
        if jobs.is_empty() {
            lane.per_member.remove(&member);
            lane.members.retain(|m| *m != member);
        }
        if lane.members.is_empty() {
            self.per_guild.remove(&guild);
            self.guilds.retain(|g| *g != guild);
        }
        true
    }

    /// The first `k` jobs of the serving order, in O(k) (plus the servers and members
    /// passed over), without replaying the whole queue.
    pub fn head(&self, k: usize) -> Vec<JobId> {
        let mut out = Vec::with_capacity(k.min(self.len));
        let mut lanes: Vec<LanePicks<'_>> = Vec::new();
        loop {
            let mut picked = false;
            for (i, guild) in self.guilds.iter().enumerate() {
                if out.len() == k {
                    return out;
                }
                if i == lanes.len() {
                    lanes.push(LanePicks::new(&self.per_guild[guild]));
                }
                if let Some(job) = lanes[i].next() {
                    out.push(job.clone());
                    picked = true;
                }
            }
            if !picked {
                return out;
            }
        }
    }

    /// The serving order as it stands: position 1 is served next.
    pub fn order(&self) -> Vec<JobId> {
        // Replay round-robin on a copy of the lanes' shapes without mutating the queue.
        let mut guilds: Lanes<'_> = self
            .guilds
            .iter()
            .map(|g| {
                let lane = &self.per_guild[g];
                let members = lane
                    .members
                    .iter()
                    .map(|m| (*m, lane.per_member[m].iter().collect()))
                    .collect();
                (*g, members)
            })
            .collect();
        let mut out = Vec::with_capacity(self.len);
        while let Some((g, mut members)) = guilds.pop_front() {
            let (m, mut jobs) = members.pop_front().expect("non-empty lane");
            out.push(jobs.pop_front().expect("non-empty member").clone());
            if !jobs.is_empty() {
                members.push_back((m, jobs));
            }
            if !members.is_empty() {
                guilds.push_back((g, members));
            }
        }
        out
    }

    /// 1-based position of a waiting job.
    pub fn position(&self, job: &JobId) -> Option<usize> {
        self.order().iter().position(|j| j == job).map(|i| i + 1)
    }
}

/// One server's jobs in its serving order, round by round over its members, lazily.
struct LanePicks<'a> {
    lane: &'a GuildLane,
    round: usize,
    next_member: usize,
    picked_this_round: bool,
}

impl<'a> LanePicks<'a> {
    fn new(lane: &'a GuildLane) -> LanePicks<'a> {
        LanePicks {
            lane,
            round: 0,
            next_member: 0,
            picked_this_round: false,
        }
    }

    fn next(&mut self) -> Option<&'a JobId> {
        loop {
            if self.next_member == self.lane.members.len() {
                if !self.picked_this_round {
                    return None;
                }
                self.round += 1;
                self.next_member = 0;
                self.picked_this_round = false;
            }
            let member = self.lane.members[self.next_member];
            self.next_member += 1;
            if let Some(job) = self.lane.per_member[&member].get(self.round) {
                self.picked_this_round = true;
                return Some(job);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> JobId {
        JobId(s.into())
    }

    #[test]
    fn serves_servers_then_members_round_robin() {
        let mut q = FairQueue::default();
        let (g1, g2) = (GuildId(1), GuildId(2));
        let (a, b, c) = (MemberId(10), MemberId(11), MemberId(12));
        // Server 1 floods: a posts three jobs, b one. Server 2: c posts one, later.
        q.push(g1, a, id("a1"));
        q.push(g1, a, id("a2"));
        q.push(g1, a, id("a3"));
        q.push(g1, b, id("b1"));
        q.push(g2, c, id("c1"));
        let expected = ["a1", "c1", "b1", "a2", "a3"];
        assert_eq!(q.order(), expected.map(id).to_vec());
        assert_eq!(
            q.head(3),
            expected[..3].iter().map(|s| id(s)).collect::<Vec<_>>()
        );
        assert_eq!(q.head(10), expected.map(id).to_vec());
        assert_eq!(q.position(&id("c1")), Some(2));
        let served: Vec<JobId> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(served, expected.map(id).to_vec());
        assert!(q.is_empty());
    }

    #[test]
    fn remove_and_push_front_keep_the_lanes_consistent() {
        let mut q = FairQueue::default();
        q.push(GuildId(1), MemberId(1), id("x"));
        q.push(GuildId(1), MemberId(2), id("y"));
        q.push(GuildId(2), MemberId(3), id("z"));
        assert!(q.remove(&id("y")));
        assert!(!q.remove(&id("y")));
        assert!(!q.remove_from(GuildId(1), MemberId(2), &id("y")));
        assert_eq!(q.len(), 2);
        let first = q.pop().unwrap();
        assert_eq!(first, id("x"));
        q.push_front(GuildId(1), MemberId(1), first);
        assert_eq!(q.order(), vec![id("z"), id("x")]);
        assert_eq!(q.pop(), Some(id("z")));
        assert_eq!(q.pop(), Some(id("x")));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn head_and_remove_from_agree_with_the_full_replay() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..50 {
            let mut q = FairQueue::default();
            let mut all = Vec::new();
            for n in 0..rng.gen_range(0..60) {
                let (g, m) = (GuildId(rng.gen_range(0..4)), MemberId(rng.gen_range(0..6)));
                let job = id(&format!("j{n}"));
                if rng.gen_bool(0.2) {
                    q.push_front(g, m, job.clone());
                } else {
                    q.push(g, m, job.clone());
                }
                all.push((g, m, job));
            }
            for (g, m, job) in &all {
                if rng.gen_bool(0.3) {
                    assert!(q.remove_from(*g, *m, job));
                }
            }
            let order = q.order();
            assert_eq!(order.len(), q.len());
            for k in [0, 1, 3, 10, 100] {
                assert_eq!(q.head(k), order[..k.min(order.len())].to_vec());
            }
        }
    }
}
