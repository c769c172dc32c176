//! The garbage collector: a precise, non-moving mark-sweep heap.
//!
//! Allocation. Objects up to `MAX_SMALL_BYTES` live in 64 KiB pages, each page
//! holding cells of one size class; pages come from 1 MiB chunks of the
//! system allocator (dlmalloc over `memory.grow` on wasm32). Each class has
//! one current region: a free list (cells linked through their header's
//! `bits` word, which carries the FREE flag) and a bump range (the part of a
//! page never handed out yet). The fast path pops the list or bumps and is
//! inlined into `weft_alloc`; everything else is the out-of-line slow path.
//! Larger objects get their own allocation, kept in an ordered map so a root
//! that points into one can be found.
//!
//! Collection. A collection is triggered when the bytes handed out since the
//! last one exceed a threshold that grows with the live heap, so the heap
//! stays within a small multiple of what the program keeps. Marking starts
//! from the shadow stack (`roots`), whose slots may hold anything: null,
//! static objects, stack addresses, interior pointers; `resolve_root` maps
//! each to the object that contains it, or to nothing. Fields of heap
//! objects are traced precisely through their type descriptors, with an
//! explicit mark stack (never recursion) and reference arrays scanned in
//! bounded chunks, so neither long lists nor huge arrays can overflow
//! anything. Static objects (string literals) carry the STATIC bit and are
//! never written to.
//!
//! Sweeping is lazy: after marking, every page is "unswept", and a class
//! sweeps its own pages when it needs cells, so freeing a cell and reusing it
//! touch the same memory while it is in cache. The next collection first
//! sweeps whatever is left (so all mark bits are clear before it marks).
//! Under `WEFT_GC_STRESS=1` every allocation collects and every page is swept
//! at once, filling freed payloads with 0xdb and their descriptor word with a
//! poison value, so a missed root shows up as a crash or as the collector's
//! "reference to a freed object" error rather than as silent corruption.

use crate::object::{
    desc_of, object_bytes, read_u64, slot_to_ref, Header, Ref, TypeDesc, FLAG_MASK, FREE,
    HEADER_BYTES, KIND_FIXED, KIND_POINTER_SLOTS, MARK, POISON_BYTE, POISON_DESC, STATIC,
};
use crate::{platform, process, roots};
use core::cell::UnsafeCell;
use core::ptr;
use std::alloc::{alloc, alloc_zeroed, dealloc, Layout};
use std::collections::BTreeMap;

/// Bytes in a page; pages are aligned to their size, so a cell's page is
/// its address with the low bits cleared.
pub const PAGE_BYTES: usize = 64 * 1024;
/// The page header (`Page`) sits at the start of the page, before its cells.
const PAGE_HEADER_BYTES: usize = 64;
/// Pages are obtained from the system allocator this many at a time.
const CHUNK_PAGES: usize = 16;
const CHUNK_BYTES: usize = PAGE_BYTES * CHUNK_PAGES;

/// Cell sizes: steps of at most about 25% keep internal fragmentation low.
const CLASS_SIZES: [usize; 28] = [
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024,
    1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096,
];
const NUM_CLASSES: usize = CLASS_SIZES.len();
/// The largest object (header included) allocated in pages.
pub const MAX_SMALL_BYTES: usize = CLASS_SIZES[NUM_CLASSES - 1];
/// The size class of each object size rounded up to 16, indexed by size / 16.
static CLASS_OF: [u8; MAX_SMALL_BYTES / 16 + 1] = class_table();

/// A collection happens once this many bytes were allocated since the last,
/// or as many as were live after it, whichever is more.
const MIN_THRESHOLD_BYTES: u64 = 4 << 20;
/// Reference-array slots scanned per mark-stack entry: bounds the mark
/// stack's growth by one huge array.
const MARK_SLICE: usize = 512;
/// `Page::class` of a page in the pool of empty pages.
const NO_CLASS: u32 = u32::MAX;

const fn class_table() -> [u8; MAX_SMALL_BYTES / 16 + 1] {
    let mut table = [0u8; MAX_SMALL_BYTES / 16 + 1];
    let mut class = 0;
    let mut i = 0;
    while i < table.len() {
        if i * 16 > CLASS_SIZES[class] {
            class += 1;
        }
        table[i] = class as u8;
        i += 1;
    }
    table
}

/// The header at the start of every page.
#[repr(C)]
struct Page {
    /// The size class of the page's cells, or `NO_CLASS` in the pool.
    class: u32,
    cell_size: u32,
    /// Cells below this address have been handed out at some point; those
    /// above it are untouched memory (the rest of a bump range).
    used_end: usize,
    /// The end of the last whole cell.
    cells_end: usize,
    /// After a sweep: the page's free cells, linked, and how many there are.
    free_head: usize,
    free_count: usize,
}

/// A size class's current allocation region; the fast path reads only this.
#[derive(Clone, Copy)]
struct Region {
    /// The next free cell (0 when the list is empty).
    free: usize,
    /// The bump range `[bump, bump_end)` of whole cells.
    bump: usize,
    bump_end: usize,
    /// The page the region belongs to (0 for none).
    page: usize,
    cell_size: usize,
}

/// A size class's pages. Each page is in exactly one list.
struct ClassPages {
    /// Not swept since the last mark: may hold dead objects and mark bits.
    unswept: Vec<usize>,
    /// Swept, with free cells or bump room not yet used.
    available: Vec<usize>,
    /// Swept and used up (including the current region's page).
    swept: Vec<usize>,
}

impl ClassPages {
    const fn new() -> ClassPages {
        ClassPages {
            unswept: Vec::new(),
            available: Vec::new(),
            swept: Vec::new(),
        }
    }
}

/// Counters, for `WEFT_GC_STATS=1` and for tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub collections: u64,
    /// Bytes handed out (cell sizes, large objects rounded to 16).
    pub allocated: u64,
    /// Bytes found dead by collections.
    pub freed: u64,
    /// Bytes reached by the last collection.
    pub live: u64,
    /// Bytes obtained from the system (chunks and large objects), now and at most.
    pub heap_bytes: u64,
    pub peak_heap_bytes: u64,
    pub longest_pause_ms: f64,
}

pub struct Heap {
    regions: [Region; NUM_CLASSES],
    stress: bool,
    stats_enabled: bool,
    collecting: bool,
    pages: [ClassPages; NUM_CLASSES],
    /// Empty pages, usable by any class.
    pool: Vec<usize>,
    /// Chunk address ranges `(start, end)`, sorted: the membership test for
    /// small objects.
    chunks: Vec<(usize, usize)>,
    /// Large objects: address to size.
    large: BTreeMap<usize, usize>,
    /// Objects to scan, with the first slot still to scan (reference arrays).
    mark_stack: Vec<(usize, usize)>,
    /// Bytes of regions handed to the fast path, less what was left unused
    /// when a region was retired, plus large objects: bytes allocated.
    allocated: u64,
    allocated_at_last_collection: u64,
    threshold: u64,
    stats: Stats,
}

struct HeapCell(UnsafeCell<Heap>);

// The runtime is single-threaded (the unit tests serialise on a lock).
unsafe impl Sync for HeapCell {}

static HEAP: HeapCell = HeapCell(UnsafeCell::new(Heap::new()));

#[inline(always)]
fn heap() -> &'static mut Heap {
    // SAFETY: single-threaded; callers never hold two of these at once
    // (every entry point takes it once and passes `self` down).
    unsafe { &mut *HEAP.0.get() }
}

/// Chooses stress mode and statistics; called once at start-up.
pub fn configure(stress: bool, stats: bool) {
    let heap = heap();
    heap.stress = stress;
    heap.stats_enabled = stats;
}

/// A zeroed object of `payload_bytes` with its header set to `desc`. May
/// collect first. Never returns null (out of memory ends the program).
///
/// # Safety
/// `desc` must be a valid descriptor that outlives the object, and the
/// caller must root every reference it still needs (see `roots`).
#[inline]
pub unsafe fn alloc(desc: *const TypeDesc, payload_bytes: usize) -> Ref {
    let heap = heap();
    if payload_bytes <= MAX_SMALL_BYTES - HEADER_BYTES && !heap.stress {
        let class = *CLASS_OF.get_unchecked((HEADER_BYTES + payload_bytes + 15) >> 4) as usize;
        let region = heap.regions.get_unchecked_mut(class);
        let cell = region.free;
        if cell != 0 {
            region.free = ((*(cell as *mut Header)).bits & !FLAG_MASK) as usize;
            return init(cell, desc, payload_bytes);
        }
        let cell = region.bump;
        if cell < region.bump_end {
            region.bump = cell + region.cell_size;
            return init(cell, desc, payload_bytes);
        }
    }
    heap.alloc_slow(desc, payload_bytes)
}

/// Sets a new object's header and zeroes its payload.
#[inline(always)]
unsafe fn init(cell: usize, desc: *const TypeDesc, payload_bytes: usize) -> Ref {
    let obj = cell as *mut Header;
    (*obj).desc = desc as usize as u64;
    (*obj).bits = 0;
    let words = (payload_bytes + 7) / 8;
    let payload = (cell + HEADER_BYTES) as *mut u64;
    if words <= 8 {
        // Most objects are a few words: plain stores beat a call to memset.
        for i in 0..words {
            ptr::write_volatile(payload.add(i), 0);
        }
    } else {
        ptr::write_bytes(payload, 0, words);
    }
    obj
}

/// A full collection now.
pub fn collect() {
    // SAFETY: every entry point of the runtime keeps the shadow stack well formed.
    unsafe { heap().collect() }
}

/// The counters so far, with `allocated` exact (unused region space excluded).
pub fn stats() -> Stats {
    let heap = heap();
    let mut stats = heap.stats;
    // SAFETY: the regions' free lists are well formed.
    stats.allocated = heap.allocated - unsafe { heap.unused_region_bytes() };
    stats
}

/// Prints the statistics line to stderr when `WEFT_GC_STATS=1`.
pub fn report() {
    if !heap().stats_enabled {
        return;
    }
    let s = stats();
    let line = format!(
        "gc: {} collections, {} bytes allocated, {} bytes freed, longest pause {:.3} ms, peak heap {} bytes\n",
        s.collections, s.allocated, s.freed, s.longest_pause_ms, s.peak_heap_bytes
    );
    crate::output::write(crate::output::STDERR_FD, line.as_bytes());
}

/// The bytes an object of `bytes` (header included) really occupies.
#[inline]
fn accounted_bytes(bytes: usize) -> usize {
    if bytes <= MAX_SMALL_BYTES {
        CLASS_SIZES[CLASS_OF[(bytes + 15) >> 4] as usize]
    } else {
        (bytes + 15) & !15
    }
}

fn out_of_memory() -> ! {
    process::fatal("out of memory")
}

impl Heap {
    const fn new() -> Heap {
        let mut regions = [Region {
            free: 0,
            bump: 0,
            bump_end: 0,
            page: 0,
            cell_size: 0,
        }; NUM_CLASSES];
        let mut i = 0;
        while i < NUM_CLASSES {
            regions[i].cell_size = CLASS_SIZES[i];
            i += 1;
        }
        Heap {
            regions,
            stress: false,
            stats_enabled: false,
            collecting: false,
            pages: [const { ClassPages::new() }; NUM_CLASSES],
            pool: Vec::new(),
            chunks: Vec::new(),
            large: BTreeMap::new(),
            mark_stack: Vec::new(),
            allocated: 0,
            allocated_at_last_collection: 0,
            threshold: MIN_THRESHOLD_BYTES,
            stats: Stats {
                collections: 0,
                allocated: 0,
                freed: 0,
                live: 0,
                heap_bytes: 0,
                peak_heap_bytes: 0,
                longest_pause_ms: 0.0,
            },
        }
    }

    /// Everything `alloc`'s fast path does not: stress collections, the
    /// trigger, refilling a class's region, large objects.
    #[cold]
    #[inline(never)]
    unsafe fn alloc_slow(&mut self, desc: *const TypeDesc, payload_bytes: usize) -> Ref {
        if self.stress || self.allocated - self.allocated_at_last_collection >= self.threshold {
            self.collect();
        }
        if payload_bytes > MAX_SMALL_BYTES - HEADER_BYTES {
            return self.alloc_large(desc, payload_bytes);
        }
        let class = CLASS_OF[(HEADER_BYTES + payload_bytes + 15) >> 4] as usize;
        if self.regions[class].free == 0 && self.regions[class].bump >= self.regions[class].bump_end
        {
            self.refill(class);
        }
        let region = &mut self.regions[class];
        let cell = if region.free != 0 {
            let cell = region.free;
            region.free = ((*(cell as *mut Header)).bits & !FLAG_MASK) as usize;
            cell
        } else {
            let cell = region.bump;
            region.bump += region.cell_size;
            cell
        };
        init(cell, desc, payload_bytes)
    }

    unsafe fn alloc_large(&mut self, desc: *const TypeDesc, payload_bytes: usize) -> Ref {
        let bytes = payload_bytes
            .checked_add(HEADER_BYTES + 15)
            .unwrap_or_else(|| out_of_memory())
            & !15;
        let layout = Layout::from_size_align(bytes, 16).unwrap_or_else(|_| out_of_memory());
        // Zeroed memory from the system is often free (fresh pages), unlike
        // clearing it ourselves.
        let obj = alloc_zeroed(layout) as *mut Header;
        if obj.is_null() {
            out_of_memory();
        }
        self.large.insert(obj as usize, bytes);
        self.grow_heap_bytes(bytes);
        self.allocated += bytes as u64;
        (*obj).desc = desc as usize as u64;
        obj
    }

    fn grow_heap_bytes(&mut self, bytes: usize) {
        self.stats.heap_bytes += bytes as u64;
        self.stats.peak_heap_bytes = self.stats.peak_heap_bytes.max(self.stats.heap_bytes);
    }

    /// Gives `class` a new non-empty region: a page of its own with room,
    /// else an empty page.
    unsafe fn refill(&mut self, class: usize) {
        self.retire(class);
        loop {
            if let Some(page) = self.pages[class].available.pop() {
                self.pages[class].swept.push(page);
                self.take_region(class, page);
                return;
            }
            let Some(page) = self.pages[class].unswept.pop() else {
                break;
            };
            let live = self.sweep_page(page);
            self.pages[class].swept.push(page);
            if live == 0 {
                self.format_page(page, class);
                self.take_region(class, page);
                return;
            }
            if page_has_room(page) {
                self.take_region(class, page);
                return;
            }
        }
        let page = self.empty_page();
        self.format_page(page, class);
        self.pages[class].swept.push(page);
        self.take_region(class, page);
    }

    /// Makes `page`'s free cells and bump room the region of `class`.
    unsafe fn take_region(&mut self, class: usize, page: usize) {
        let p = page as *mut Page;
        let region = &mut self.regions[class];
        region.free = (*p).free_head;
        region.bump = (*p).used_end;
        region.bump_end = (*p).cells_end;
        region.page = page;
        self.allocated +=
            ((*p).free_count * region.cell_size + ((*p).cells_end - (*p).used_end)) as u64;
        (*p).free_head = 0;
        (*p).free_count = 0;
    }

    /// Ends `class`'s current region: records how far the bump range got and
    /// takes what was not used out of `allocated`. Its free cells stay free
    /// (their headers say so) and the next sweep of the page finds them.
    unsafe fn retire(&mut self, class: usize) {
        let region = self.regions[class];
        if region.page != 0 {
            (*(region.page as *mut Page)).used_end = region.bump;
        }
        self.allocated -= region_unused_bytes(&region) as u64;
        let region = &mut self.regions[class];
        region.free = 0;
        region.bump = 0;
        region.bump_end = 0;
        region.page = 0;
    }

    unsafe fn unused_region_bytes(&self) -> u64 {
        self.regions
            .iter()
            .map(|r| region_unused_bytes(r) as u64)
            .sum()
    }

    /// Sets up an empty page for `class`: no cell handed out yet.
    unsafe fn format_page(&mut self, page: usize, class: usize) {
        let p = page as *mut Page;
        let size = CLASS_SIZES[class];
        let first = page + PAGE_HEADER_BYTES;
        (*p).class = class as u32;
        (*p).cell_size = size as u32;
        (*p).used_end = first;
        (*p).cells_end = first + (PAGE_BYTES - PAGE_HEADER_BYTES) / size * size;
        (*p).free_head = 0;
        (*p).free_count = 0;
    }

    /// An empty page: from the pool, else by sweeping other classes' pages
    /// until one turns out empty, else from a new chunk.
    unsafe fn empty_page(&mut self) -> usize {
        if let Some(page) = self.pool.pop() {
            return page;
        }
        for class in 0..NUM_CLASSES {
            while let Some(page) = self.pages[class].unswept.pop() {
                if self.sweep_page(page) == 0 {
                    return page;
                }
                self.file_swept_page(class, page);
            }
        }
        let layout = Layout::from_size_align(CHUNK_BYTES, PAGE_BYTES).unwrap();
        let chunk = alloc(layout) as usize;
        if chunk == 0 {
            out_of_memory();
        }
        let at = self.chunks.partition_point(|&(start, _)| start < chunk);
        self.chunks.insert(at, (chunk, chunk + CHUNK_BYTES));
        self.grow_heap_bytes(CHUNK_BYTES);
        // Pushed highest first, so pages are used in address order.
        for i in (1..CHUNK_PAGES).rev() {
            let page = chunk + i * PAGE_BYTES;
            (*(page as *mut Page)).class = NO_CLASS;
            self.pool.push(page);
        }
        chunk
    }

    /// Files a page its class's sweep just went through, by what it holds.
    unsafe fn file_swept_page(&mut self, class: usize, page: usize) {
        if page_has_room(page) {
            self.pages[class].available.push(page);
        } else {
            self.pages[class].swept.push(page);
        }
    }

    /// Sweeps every unswept page: empty ones go back to the pool.
    unsafe fn finish_sweeping(&mut self) {
        for class in 0..NUM_CLASSES {
            while let Some(page) = self.pages[class].unswept.pop() {
                if self.sweep_page(page) == 0 {
                    (*(page as *mut Page)).class = NO_CLASS;
                    self.pool.push(page);
                } else {
                    self.file_swept_page(class, page);
                }
            }
        }
    }

    /// Clears the mark bits of a page's live cells and links every other
    /// cell into the page's free list (in address order). Returns the number
    /// of live cells.
    unsafe fn sweep_page(&mut self, page: usize) -> usize {
        let p = page as *mut Page;
        let size = (*p).cell_size as usize;
        let first = page + PAGE_HEADER_BYTES;
        let poison = self.stress;
        let mut cell = (*p).used_end;
        let mut head = 0usize;
        let mut free = 0usize;
        let mut live = 0usize;
        while cell > first {
            cell -= size;
            let obj = cell as *mut Header;
            let bits = (*obj).bits;
            if bits & MARK != 0 {
                (*obj).bits = bits & !MARK;
                live += 1;
                continue;
            }
            if bits & FREE == 0 {
                // Dead: keep a header that says so.
                (*obj).desc = POISON_DESC;
                if poison {
                    ptr::write_bytes(
                        (cell + HEADER_BYTES) as *mut u8,
                        POISON_BYTE,
                        size - HEADER_BYTES,
                    );
                }
            }
            (*obj).bits = head as u64 | FREE;
            head = cell;
            free += 1;
        }
        (*p).free_head = head;
        (*p).free_count = free;
        live
    }

    /// A full collection.
    unsafe fn collect(&mut self) {
        if self.collecting {
            return;
        }
        self.collecting = true;
        let started = if self.stats_enabled {
            platform::now_ms()
        } else {
            0.0
        };
        for class in 0..NUM_CLASSES {
            self.retire(class);
        }
        // Clears the previous cycle's marks and frees its garbage.
        self.finish_sweeping();

        self.stats.live = 0;
        roots::for_each_root(|slot| {
            if let Some(obj) = self.resolve_root(slot) {
                self.mark(obj);
            }
        });
        self.drain_mark_stack();
        self.sweep_large();

        for class in &mut self.pages {
            let ClassPages {
                unswept,
                available,
                swept,
            } = class;
            unswept.append(available);
            unswept.append(swept);
        }
        self.stats.freed = self.allocated - self.stats.live;
        self.threshold = MIN_THRESHOLD_BYTES.max(self.stats.live);
        self.allocated_at_last_collection = self.allocated;
        if self.stress {
            // Poison the garbage now, while stale references to it may exist.
            self.finish_sweeping();
        }
        self.stats.collections += 1;
        if self.stats_enabled {
            let pause = platform::now_ms() - started;
            self.stats.longest_pause_ms = self.stats.longest_pause_ms.max(pause);
        }
        self.collecting = false;
    }

    /// The object a root slot refers to, if it refers into the heap: the
    /// slot may hold null, a static object, a stack address or an interior
    /// pointer.
    unsafe fn resolve_root(&self, addr: usize) -> Option<Ref> {
        if addr == 0 {
            return None;
        }
        let i = self.chunks.partition_point(|&(start, _)| start <= addr);
        if i > 0 && addr < self.chunks[i - 1].1 {
            let page = addr & !(PAGE_BYTES - 1);
            let p = page as *const Page;
            let first = page + PAGE_HEADER_BYTES;
            if (*p).class == NO_CLASS || addr < first {
                return None;
            }
            let size = (*p).cell_size as usize;
            let cell = first + (addr - first) / size * size;
            if cell >= (*p).used_end || (*(cell as *const Header)).bits & FREE != 0 {
                return None;
            }
            return Some(cell as Ref);
        }
        let (&start, &bytes) = self.large.range(..=addr).next_back()?;
        (addr < start + bytes).then_some(start as Ref)
    }

    /// Marks one object and queues it for scanning if it holds references.
    #[inline(always)]
    unsafe fn mark(&mut self, obj: Ref) {
        let bits = (*obj).bits;
        if bits & (MARK | STATIC | FREE) != 0 {
            if bits & FREE != 0 {
                stale_reference(obj);
            }
            return;
        }
        (*obj).bits = bits | MARK;
        let desc = &*desc_of(obj);
        let Some(bytes) = object_bytes(obj, desc) else {
            bad_descriptor(obj);
        };
        self.stats.live += accounted_bytes(bytes) as u64;
        let has_refs = match desc.kind {
            KIND_FIXED => desc.nptrs != 0,
            KIND_POINTER_SLOTS => read_u64(obj, 0) != 0,
            _ => false,
        };
        if has_refs {
            self.mark_stack.push((obj as usize, 0));
        }
    }

    unsafe fn drain_mark_stack(&mut self) {
        while let Some((obj, start)) = self.mark_stack.pop() {
            let obj = obj as Ref;
            let desc = &*desc_of(obj);
            if desc.kind == KIND_FIXED {
                for &offset in desc.ptr_offsets() {
                    let child = slot_to_ref(read_u64(obj, offset as usize));
                    if !child.is_null() {
                        self.mark(child);
                    }
                }
            } else {
                let count = read_u64(obj, 0) as usize;
                let end = count.min(start + MARK_SLICE);
                if end < count {
                    // The rest of the array waits under its children.
                    self.mark_stack.push((obj as usize, end));
                }
                for i in start..end {
                    let child = slot_to_ref(read_u64(obj, 8 + 8 * i));
                    if !child.is_null() {
                        self.mark(child);
                    }
                }
            }
        }
    }

    /// Frees unmarked large objects and clears the marks of the others.
    unsafe fn sweep_large(&mut self) {
        let poison = self.stress;
        let mut released = 0u64;
        self.large.retain(|&start, &mut bytes| {
            let obj = start as *mut Header;
            let bits = (*obj).bits;
            if bits & MARK != 0 {
                (*obj).bits = bits & !MARK;
                return true;
            }
            if poison {
                ptr::write_bytes(obj as *mut u8, POISON_BYTE, bytes);
            }
            dealloc(obj as *mut u8, Layout::from_size_align_unchecked(bytes, 16));
            released += bytes as u64;
            false
        });
        self.stats.heap_bytes -= released;
    }
}

fn region_unused_bytes(region: &Region) -> usize {
    let mut unused = region.bump_end.saturating_sub(region.bump);
    let mut cell = region.free;
    while cell != 0 {
        unused += region.cell_size;
        // SAFETY: free-list cells are heap cells whose `bits` hold the link.
        cell = unsafe { ((*(cell as *const Header)).bits & !FLAG_MASK) as usize };
    }
    unused
}

unsafe fn page_has_room(page: usize) -> bool {
    let p = page as *const Page;
    (*p).free_count > 0 || (*p).used_end < (*p).cells_end
}

#[cold]
fn stale_reference(obj: Ref) -> ! {
    process::fatal(&format!(
        "the garbage collector found a reference to a freed object at {obj:p} (a missing GC root)"
    ))
}

#[cold]
fn bad_descriptor(obj: Ref) -> ! {
    process::fatal(&format!(
        "the garbage collector found an object with an invalid type descriptor at {obj:p}"
    ))
}

/// Whether `obj` is a free cell now (for tests of reuse and poisoning).
#[cfg(test)]
pub unsafe fn is_free(obj: Ref) -> bool {
    (*obj).bits & FREE != 0
}

/// Chooses stress mode alone (tests).
#[cfg(test)]
pub fn set_stress(stress: bool) {
    heap().stress = stress;
}
