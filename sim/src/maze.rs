//! Seeded maze generation: perfect mazes on a grid, for hidden test cases.
//!
//! A scenario's `[maze]` table places a grid of square cells; each run's seed
//! carves a different perfect maze (exactly one path between any two cells)
//! with an iterative depth-first search. The exit is a given cell or, by
//! default, the cell farthest from the start. Graders use [`Maze::distances_to`]
//! to measure progress along the shortest path.

use rand_core::RngCore;

/// Where and how big the maze is.
#[derive(Clone, Debug, PartialEq)]
pub struct MazeSpec {
    pub cols: u32,
    pub rows: u32,
    /// Cell side (m).
    pub cell: f64,
    /// Bottom-left corner of the grid.
    pub origin: [f64; 2],
    pub thickness: f64,
    /// Start cell (column, row), row 0 at the bottom.
    pub start: [u32; 2],
    /// Exit cell; `None` = the cell farthest from the start.
    pub exit: Option<[u32; 2]>,
}

/// A generated maze: which walls between neighbouring cells are open.
#[derive(Clone, Debug, PartialEq)]
pub struct Maze {
    pub spec: MazeSpec,
    /// `east_open[r * (cols - 1) + c]`: passage between (c, r) and (c + 1, r).
    east_open: Vec<bool>,
    /// `north_open[r * cols + c]`: passage between (c, r) and (c, r + 1).
    north_open: Vec<bool>,
    pub exit: [u32; 2],
}

impl Maze {
    /// Carves a perfect maze with a randomised depth-first search.
    pub fn generate(spec: MazeSpec, rng: &mut impl RngCore) -> Maze {
        let (cols, rows) = (spec.cols as usize, spec.rows as usize);
        let mut maze = Maze { east_open: vec![false; (cols - 1) * rows], north_open: vec![false; cols * (rows - 1)], exit: [0, 0], spec };
        let mut visited = vec![false; cols * rows];
        let start = (maze.spec.start[0] as usize, maze.spec.start[1] as usize);
        let mut stack = vec![start];
        visited[start.1 * cols + start.0] = true;
        while let Some(&(c, r)) = stack.last() {
            let mut options = [(0usize, 0usize); 4];
            let mut n = 0;
            for (dc, dr) in [(1i64, 0i64), (-1, 0), (0, 1), (0, -1)] {
                let (nc, nr) = (c as i64 + dc, r as i64 + dr);
                if nc >= 0 && nr >= 0 && (nc as usize) < cols && (nr as usize) < rows && !visited[nr as usize * cols + nc as usize] {
                    options[n] = (nc as usize, nr as usize);
                    n += 1;
                }
            }
            if n == 0 {
                stack.pop();
                continue;
            }
            let (nc, nr) = options[(rng.next_u64() % n as u64) as usize];
            maze.open_between((c, r), (nc, nr));
            visited[nr * cols + nc] = true;
            stack.push((nc, nr));
        }
        maze.exit = match maze.spec.exit {
            Some(e) => e,
            None => {
                let d = maze.distances_to(maze.spec.start);
                let far = (0..d.len()).max_by_key(|&i| (d[i], std::cmp::Reverse(i))).unwrap_or(0);
                [(far % cols) as u32, (far / cols) as u32]
            }
        };
        maze
    }

    fn open_between(&mut self, a: (usize, usize), b: (usize, usize)) {
        let cols = self.spec.cols as usize;
        let ((c0, r0), (c1, r1)) = if (a.1, a.0) <= (b.1, b.0) { (a, b) } else { (b, a) };
        if r0 == r1 {
            self.east_open[r0 * (cols - 1) + c0.min(c1)] = true;
        } else {
            self.north_open[r0 * cols + c0] = true;
            debug_assert_eq!(c0, c1);
            let _ = r1;
        }
    }

    /// Whether one can move from cell (c, r) one step in direction (dc, dr).
    pub fn open(&self, c: u32, r: u32, dc: i32, dr: i32) -> bool {
        let (cols, rows) = (self.spec.cols as i64, self.spec.rows as i64);
        let (nc, nr) = (c as i64 + dc as i64, r as i64 + dr as i64);
        if nc < 0 || nr < 0 || nc >= cols || nr >= rows {
            return false;
        }
        match (dc, dr) {
            (1, 0) => self.east_open[(r as i64 * (cols - 1) + c as i64) as usize],
            (-1, 0) => self.east_open[(r as i64 * (cols - 1) + nc) as usize],
            (0, 1) => self.north_open[(r as i64 * cols + c as i64) as usize],
            (0, -1) => self.north_open[(nr * cols + c as i64) as usize],
            _ => false,
        }
    }

    /// Steps from every cell to `target` along the maze (index `r * cols + c`).
    pub fn distances_to(&self, target: [u32; 2]) -> Vec<u32> {
        let cols = self.spec.cols as usize;
        let n = cols * self.spec.rows as usize;
        let mut dist = vec![u32::MAX; n];
        let mut queue = std::collections::VecDeque::new();
        dist[target[1] as usize * cols + target[0] as usize] = 0;
        queue.push_back(target);
        while let Some([c, r]) = queue.pop_front() {
            let d = dist[r as usize * cols + c as usize];
            for (dc, dr) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                if self.open(c, r, dc, dr) {
                    let (nc, nr) = ((c as i32 + dc) as u32, (r as i32 + dr) as u32);
                    let i = nr as usize * cols + nc as usize;
                    if dist[i] == u32::MAX {
                        dist[i] = d + 1;
                        queue.push_back([nc, nr]);
                    }
                }
            }
        }
        dist
    }

    /// The cell containing point `p`, if it is inside the grid.
    pub fn cell_of(&self, p: [f64; 2]) -> Option<[u32; 2]> {
        let c = ((p[0] - self.spec.origin[0]) / self.spec.cell).floor();
        let r = ((p[1] - self.spec.origin[1]) / self.spec.cell).floor();
        (c >= 0.0 && r >= 0.0 && c < self.spec.cols as f64 && r < self.spec.rows as f64).then_some([c as u32, r as u32])
    }

    /// Centre of a cell.
    pub fn center(&self, cell: [u32; 2]) -> [f64; 2] {
        let s = &self.spec;
        [s.origin[0] + (cell[0] as f64 + 0.5) * s.cell, s.origin[1] + (cell[1] as f64 + 0.5) * s.cell]
    }

    /// Wall segments: the outline plus every closed wall between cells.
    pub fn walls(&self) -> Vec<([f64; 2], [f64; 2])> {
        let s = &self.spec;
        let at = |c: u32, r: u32| [s.origin[0] + c as f64 * s.cell, s.origin[1] + r as f64 * s.cell];
        let mut walls = vec![(at(0, 0), at(s.cols, 0)), (at(0, s.rows), at(s.cols, s.rows)), (at(0, 0), at(0, s.rows)), (at(s.cols, 0), at(s.cols, s.rows))];
        for r in 0..s.rows {
            for c in 0..s.cols {
                if c + 1 < s.cols && !self.open(c, r, 1, 0) {
                    walls.push((at(c + 1, r), at(c + 1, r + 1)));
                }
                if r + 1 < s.rows && !self.open(c, r, 0, 1) {
                    walls.push((at(c, r + 1), at(c + 1, r + 1)));
                }
            }
        }
        walls
    }
}
