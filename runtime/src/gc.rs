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
//! last one exceed a threshold that grows with the live heap (`threshold_for`),
//! so the heap stays within a small multiple of what the program keeps. Marking starts
//! from the shadow stack (`roots`), whose slots may hold anything: null,
//! static objects, stack addresses, interior pointers; `resolve_root` maps
//! each to the object that contains it, or to nothing. Fields of heap
//! objects are traced precisely through their type descriptors, with an
//! explicit mark stack (never recursion) and reference arrays scanned in
//! bounded chunks, so neither long lists nor huge arrays can overflow
//! anything. The runtime's own objects that hold coroutine handles (a
//! `select`'s waiting task) have descriptors flagged `DESC_INTERIOR`: their
//! fields are resolved like roots. Static objects (string literals) carry
//! the STATIC bit and are never written to.
//!
//! Sweeping is lazy: after marking, every page is "unswept", and a class
//! sweeps its own pages when it needs cells, so freeing a cell and reusing it
//! touch the same memory while it is in cache. Marking counts the objects it
//! reaches per page, so a page where nothing survived is reused whole without
//! visiting its cells (most pages, when most objects die young). The next
//! collection first sweeps whatever is left (so all mark bits are clear
//! before it marks); empty pages go to a pool any class can take from.
//! Under `WEFT_GC_STRESS=1` every allocation collects and every page is swept
//! at once, filling freed payloads with 0xdb and their descriptor word with a
//! poison value, so a missed root shows up as a crash or as the collector's
//! "reference to a freed object" error rather than as silent corruption.

use crate::object::{
    desc_of, object_bytes, payload, read_u64, Header, Ref, TypeDesc, CHILD_CALL, CHILD_TAG_MASK,
    DESC_INTERIOR, FLAG_MASK, FRAME_PREFIX, FREE, HEADER_BYTES, KIND_FIXED, KIND_FRAME,
    KIND_POINTER_SLOTS, MARK, POISON_BYTE, POISON_DESC, PROMISE_OFFSET, PROMISE_SLOTS, SLOT_CHILD,
    STATIC,
};
use crate::{platform, process, roots};
use core::cell::UnsafeCell;
use core::ptr;
use std::alloc::{alloc as system_alloc, alloc_zeroed, dealloc, Layout};
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

/// A collection happens once the bytes allocated since the last one reach
/// `threshold`: at least this much, so small programs rarely collect.
const MIN_THRESHOLD_BYTES: u64 = 4 << 20;
/// While the heap (live bytes plus the threshold) stays under this size, the
/// threshold is twice the live bytes: half as many collections as with a
/// threshold equal to the live bytes, for 1.5 times the memory. Beyond it
/// the threshold shrinks toward the live bytes, so a program that keeps a
/// few tens of MiB while allocating far more stays under 64 MiB.
const SOFT_HEAP_TARGET_BYTES: u64 = 48 << 20;
/// Reference-array slots scanned at a time: bounds how much one huge array
/// can grow the mark stack.
const MARK_SLICE: usize = 512;
/// `Page::class` of a page in the pool of empty pages.
const NO_CLASS: u32 = u32::MAX;

/// How many cells of each page the current mark phase reached, so that
/// sweeping a page nothing reached is O(1). The counts are kept in a
/// two-level table by page number rather than in the page headers: headers
/// 64 KiB apart all fall in the same cache set, and counting into them made
/// marking miss the cache on every object. Counts are zero outside a
/// collection's mark-to-sweep window.
#[cfg(target_pointer_width = "64")]
const ADDRESS_BITS: u32 = 47;
#[cfg(target_pointer_width = "32")]
const ADDRESS_BITS: u32 = 32;
const PAGE_SHIFT: u32 = PAGE_BYTES.trailing_zeros();
const LEAF_BITS: u32 = 11;
const LEAF_ENTRIES: usize = 1 << LEAF_BITS;
const TOP_ENTRIES: usize = 1 << (ADDRESS_BITS - PAGE_SHIFT - LEAF_BITS);

struct ReachedCounts(UnsafeCell<[*mut u32; TOP_ENTRIES]>);

// Single-threaded, as `HEAP`. All zero, so it costs no file size (.bss).
unsafe impl Sync for ReachedCounts {}

static REACHED: ReachedCounts = ReachedCounts(UnsafeCell::new([ptr::null_mut(); TOP_ENTRIES]));

/// The reached-cells count of the page holding `addr` (a chunk address).
#[inline(always)]
unsafe fn reached_count(addr: usize) -> *mut u32 {
    let page = addr >> PAGE_SHIFT;
    let leaf = *(*REACHED.0.get()).get_unchecked(page >> LEAF_BITS);
    leaf.add(page & (LEAF_ENTRIES - 1))
}

/// Counts a marked object in its page. Large objects are counted too where
/// a table leaf covers them (cheaper than telling them apart): they never
/// share a page with a chunk, so those counts are never read, and a page
/// that becomes part of a chunk later is reset when it is formatted.
#[inline(always)]
unsafe fn count_reached(obj: usize) {
    let page = obj >> PAGE_SHIFT;
    if page >> LEAF_BITS >= TOP_ENTRIES {
        return;
    }
    let leaf = *(*REACHED.0.get()).get_unchecked(page >> LEAF_BITS);
    if !leaf.is_null() {
        *leaf.add(page & (LEAF_ENTRIES - 1)) += 1;
    }
}

/// Makes sure the pages of `[start, end)` have counts.
unsafe fn add_reached_counts(start: usize, end: usize) {
    if (end - 1) as u64 >> ADDRESS_BITS != 0 {
        process::fatal("the system allocator returned an address beyond the heap's page table");
    }
    let top = &mut *REACHED.0.get();
    for page in (start >> PAGE_SHIFT)..=((end - 1) >> PAGE_SHIFT) {
        let slot = &mut top[page >> LEAF_BITS];
        if slot.is_null() {
            let layout = Layout::new::<[u32; LEAF_ENTRIES]>();
            *slot = alloc_zeroed(layout) as *mut u32;
            if slot.is_null() {
                out_of_memory_bytes(Some(layout.size()));
            }
        }
    }
}

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
    /// Bytes handed out (cell sizes, large objects rounded to 16); filled
    /// in by `stats()`.
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
    /// Set while allocating where collecting is not allowed (`alloc_without_collecting`).
    no_collect: bool,
    pages: [ClassPages; NUM_CLASSES],
    /// Empty pages, usable by any class.
    pool: Vec<usize>,
    /// Chunk address ranges `(start, end)`, sorted: the membership test for
    /// small objects.
    chunks: Vec<(usize, usize)>,
    /// Large objects: address to size.
    large: BTreeMap<usize, usize>,
    /// Objects to mark and scan.
    mark_stack: Vec<usize>,
    /// Reference arrays partly scanned: the array and the next slot.
    array_slices: Vec<(usize, usize)>,
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
    let words = payload_bytes.div_ceil(8);
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

/// Like `alloc`, but never collects: for allocations made where the compiled
/// code has not rooted its references yet (a coroutine frame, before
/// `llvm.coro.begin`). The next ordinary allocation catches up.
///
/// # Safety
/// As for `alloc`.
pub unsafe fn alloc_without_collecting(desc: *const TypeDesc, payload_bytes: usize) -> Ref {
    let heap = heap();
    heap.no_collect = true;
    let obj = heap.alloc_slow(desc, payload_bytes);
    heap.no_collect = false;
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

/// The threshold after a collection that found `live` bytes.
fn threshold_for(live: u64) -> u64 {
    let generous = (2 * live).min(SOFT_HEAP_TARGET_BYTES.saturating_sub(live));
    MIN_THRESHOLD_BYTES.max(live).max(generous)
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

/// The system gave no memory for a request of `bytes` (or the size overflowed).
fn out_of_memory_bytes(bytes: Option<usize>) -> ! {
    process::out_of_memory(bytes.map(|b| b as u128), "bytes")
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
            no_collect: false,
            pages: [const { ClassPages::new() }; NUM_CLASSES],
            pool: Vec::new(),
            chunks: Vec::new(),
            large: BTreeMap::new(),
            mark_stack: Vec::new(),
            array_slices: Vec::new(),
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
        if !self.no_collect
            && (self.stress || self.allocated - self.allocated_at_last_collection >= self.threshold)
        {
            self.collect();
            if crate::finalize::has_pending() {
                // Finalizers run compiled code, which allocates through the
                // global heap: this allocation starts over after them.
                crate::finalize::run_pending();
                return alloc(desc, payload_bytes);
            }
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
            .unwrap_or_else(|| out_of_memory_bytes(None))
            & !15;
        let layout = Layout::from_size_align(bytes, 16)
            .unwrap_or_else(|_| out_of_memory_bytes(Some(payload_bytes)));
        // Zeroed memory from the system is often free (fresh pages), unlike
        // clearing it ourselves.
        let obj = alloc_zeroed(layout) as *mut Header;
        if obj.is_null() {
            out_of_memory_bytes(Some(payload_bytes));
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
        *reached_count(page) = 0;
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
        let chunk = system_alloc(layout) as usize;
        if chunk == 0 {
            out_of_memory_bytes(Some(CHUNK_BYTES));
        }
        add_reached_counts(chunk, chunk + CHUNK_BYTES);
        let at = self.chunks.partition_point(|&(start, _)| start < chunk);
        self.chunks.insert(at, (chunk, chunk + CHUNK_BYTES));
        self.grow_heap_bytes(CHUNK_BYTES);
        // Pushed highest first, so pages are used in address order.
        for i in (1..CHUNK_PAGES).rev() {
            let page = chunk + i * PAGE_BYTES;
            format_pool_page(page);
            self.pool.push(page);
        }
        format_pool_page(chunk);
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
                    format_pool_page(page);
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
        let reached = core::mem::take(&mut *reached_count(page));
        if reached == 0 && !poison {
            // Nothing on the page survived: the caller reformats it whole.
            (*p).free_head = 0;
            (*p).free_count = 0;
            return 0;
        }
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
                self.mark_stack.push(obj as usize);
            }
        });
        self.drain_mark_stack();
        // Unfinished generators nobody can reach any more are kept for
        // their `defer`s (see `finalize`).
        let frame_of = |h: usize| h - HEADER_BYTES - FRAME_PREFIX;
        let mut resurrected = Vec::new();
        crate::finalize::after_mark(
            |h| (*(frame_of(h) as Ref)).bits & MARK != 0,
            |h| resurrected.push(frame_of(h)),
        );
        if !resurrected.is_empty() {
            self.mark_stack.extend(resurrected);
            self.drain_mark_stack();
        }
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
        self.stats.freed = self.allocated.saturating_sub(self.stats.live);
        self.threshold = threshold_for(self.stats.live);
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

    /// Traces everything reachable from the mark stack. Objects pass through
    /// a small FIFO after leaving the stack, and each is prefetched as it
    /// enters it, so the cache misses of several objects overlap instead of
    /// being paid one after another. The rest of a large reference array
    /// waits on its own stack until what its last slice reached is done.
    unsafe fn drain_mark_stack(&mut self) {
        const RING: usize = 16;
        let mut ring = [0usize; RING];
        let (mut head, mut count) = (0usize, 0usize);
        loop {
            while count < RING {
                let Some(obj) = self.mark_stack.pop() else {
                    break;
                };
                prefetch(obj);
                ring[(head + count) % RING] = obj;
                count += 1;
            }
            if count == 0 {
                let Some((array, start)) = self.array_slices.pop() else {
                    break;
                };
                self.scan_slots(array as Ref, start);
                continue;
            }
            let obj = ring[head];
            head = (head + 1) % RING;
            count -= 1;
            self.scan(obj as Ref);
        }
    }

    /// Marks `obj`, unless it is marked or static, and pushes the
    /// references it holds.
    #[inline(always)]
    unsafe fn scan(&mut self, obj: Ref) {
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
        count_reached(obj as usize);
        self.stats.live += accounted_bytes(bytes) as u64;
        match desc.kind {
            KIND_FIXED if desc.flags & DESC_INTERIOR != 0 => {
                // Fields that may hold coroutine handles: resolved like roots.
                for &offset in desc.ptr_offsets() {
                    let child = read_u64(obj, offset as usize) as usize;
                    if let Some(child) = self.resolve_root(child) {
                        self.mark_stack.push(child as usize);
                    }
                }
            }
            KIND_FIXED => {
                for &offset in desc.ptr_offsets() {
                    let child = read_u64(obj, offset as usize) as usize;
                    if child != 0 {
                        self.mark_stack.push(child);
                    }
                }
            }
            KIND_POINTER_SLOTS => self.scan_slots(obj, 0),
            KIND_FRAME => self.scan_frame(payload(obj, FRAME_PREFIX), obj as usize + bytes),
            _ => {}
        }
    }

    /// Pushes what a coroutine frame's root area holds. Its slots are filled
    /// by the gc-frame-spill pass like shadow-stack slots, so they are
    /// resolved like roots (null, static, interior pointers are all fine).
    ///
    /// An awaited call's frame can live inside its caller's (elided, see
    /// `codegen/coroutine.rs`): the caller's child slot then points into
    /// this same object, `[frame, end)`, and the child's root area is
    /// scanned too, and so on down the chain of elided calls.
    unsafe fn scan_frame(&mut self, frame: *mut u8, end: usize) {
        let mut next = Some(frame);
        while let Some(frame) = next.take() {
            let promise = frame.add(PROMISE_OFFSET);
            let count = ptr::read(promise as *const u32) as usize;
            let offset = ptr::read(promise.add(4) as *const u32) as usize;
            let slots = promise.add(offset) as *const usize;
            for i in 0..count {
                let slot = ptr::read_unaligned(slots.add(i));
                if let Some(child) = self.resolve_root(slot) {
                    self.mark_stack.push(child as usize);
                }
            }
            if count > SLOT_CHILD && offset == PROMISE_SLOTS {
                let child = ptr::read_unaligned(slots.add(SLOT_CHILD));
                if child & CHILD_TAG_MASK == CHILD_CALL && child > frame as usize && child < end {
                    next = Some(child as *mut u8);
                }
            }
        }
    }

    /// Pushes the references in one slice of a reference array, from `start`.
    unsafe fn scan_slots(&mut self, array: Ref, start: usize) {
        let count = read_u64(array, 0) as usize;
        let end = count.min(start + MARK_SLICE);
        if end < count {
            self.array_slices.push((array as usize, end));
        }
        for i in start..end {
            let child = read_u64(array, 8 + 8 * i) as usize;
            if child != 0 {
                self.mark_stack.push(child);
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

/// Asks the cache for the object's header ahead of its use.
#[inline(always)]
fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults, whatever the address.
    unsafe {
        core::arch::x86_64::_mm_prefetch(addr as *const i8, core::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
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

/// Marks a page as empty and in the pool.
unsafe fn format_pool_page(page: usize) {
    (*(page as *mut Page)).class = NO_CLASS;
    *reached_count(page) = 0;
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

/// Whether `obj` is free now: a free cell, or a cell of a page that went
/// back to the pool whole (tests).
#[cfg(test)]
pub unsafe fn is_free(obj: Ref) -> bool {
    let page = (obj as usize & !(PAGE_BYTES - 1)) as *const Page;
    (*obj).bits & FREE != 0
        || (heap().resolve_root(obj as usize).is_none() && (*page).class == NO_CLASS)
}

/// Chooses stress mode alone (tests).
#[cfg(test)]
pub fn set_stress(stress: bool) {
    heap().stress = stress;
}

/// A collection followed by sweeping every page, so that every dead object
/// is a free cell afterwards (tests).
#[cfg(test)]
pub fn collect_and_sweep() {
    collect();
    // SAFETY: as for `collect`.
    unsafe { heap().finish_sweeping() }
}

/// The capacity the mark stack reached (tests).
#[cfg(test)]
pub fn mark_stack_capacity() -> usize {
    heap().mark_stack.capacity()
}

/// The collection threshold now (tests).
#[cfg(test)]
pub fn threshold() -> u64 {
    heap().threshold
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{weft_desc_ref_slots, weft_desc_slots, weft_desc_string};
    use crate::object::{payload, ref_to_slot, write_u64, TypeDescWithPointers};
    use crate::roots::{with_roots, RootFrame};
    use crate::tests::{heap_lock, left, node, value, NODE};
    use core::ptr::null_mut;

    fn alive(obj: Ref) -> bool {
        // SAFETY: tests pass heap objects.
        unsafe { !is_free(obj) && (*obj).desc != POISON_DESC }
    }

    #[test]
    fn rooted_objects_survive_and_unrooted_ones_are_freed() {
        let _heap = heap_lock();
        let child = node(null_mut(), 2, null_mut());
        let parent = node(child, 1, null_mut());
        let garbage = node(null_mut(), 3, null_mut());
        with_roots([parent], |_| collect_and_sweep());
        assert!(alive(parent) && alive(child));
        assert_eq!(value(parent), 1);
        assert_eq!(left(parent), child);
        assert_eq!(value(child), 2);
        assert!(!alive(garbage));
    }

    #[test]
    fn a_frame_laid_out_like_compiled_code_roots_its_slots() {
        let _heap = heap_lock();
        // `{ ptr, i64, [3 x ptr] }`, as the compiler emits it.
        #[repr(C)]
        struct CompiledFrame {
            prev: *mut RootFrame,
            count: u64,
            slots: [usize; 3],
        }
        assert_eq!(core::mem::offset_of!(CompiledFrame, count), 8);
        assert_eq!(core::mem::offset_of!(CompiledFrame, slots), 16);
        let kept = node(null_mut(), 7, null_mut());
        let mut frame = CompiledFrame {
            prev: roots::top(),
            count: 3,
            slots: [0, kept as usize, 0],
        };
        // SAFETY: the frame outlives the collection and is popped after it.
        unsafe { roots::set_top(&mut frame as *mut CompiledFrame as *mut RootFrame) };
        collect_and_sweep();
        // SAFETY: restores the empty stack.
        unsafe { roots::set_top(core::hint::black_box(&frame).prev) };
        assert!(alive(kept));
        assert_eq!(value(kept), 7);
    }

    #[test]
    fn an_interior_pointer_keeps_its_object_alive() {
        let _heap = heap_lock();
        let small = node(null_mut(), 5, null_mut());
        // SAFETY: a 100 KiB buffer, far over the largest size class.
        let large = unsafe { crate::array::new_slots(&weft_desc_slots, 12_800) };
        let interior_small = (small as usize + 20) as Ref;
        let interior_large = (large as usize + 50_000) as Ref;
        with_roots([interior_small, interior_large], |_| collect_and_sweep());
        assert!(alive(small));
        assert_eq!(value(small), 5);
        assert!(heap().large.contains_key(&(large as usize)));
        collect_and_sweep();
        assert!(!alive(small));
        assert!(!heap().large.contains_key(&(large as usize)));
    }

    /// `{ handle: interior ref, value: int }`, its field resolved like a root.
    static HOLDER: TypeDescWithPointers<1> =
        TypeDescWithPointers::new(16, [0]).with_flags(crate::object::DESC_INTERIOR);

    #[test]
    fn interior_fields_of_flagged_descriptors_keep_their_object_alive() {
        let _heap = heap_lock();
        let target = node(null_mut(), 9, null_mut());
        // SAFETY: a holder whose field points into the middle of `target`;
        // the target is rooted while the holder is allocated.
        let holder = unsafe {
            let h = with_roots([target], |_| alloc(HOLDER.desc(), 16));
            write_u64(h, 0, ref_to_slot(target) + 12);
            h
        };
        // SAFETY: a holder with a null field, and one pointing outside the
        // heap (at a static), both allowed in such a field.
        let (empty, outside) = unsafe {
            let e = with_roots([holder], |_| alloc(HOLDER.desc(), 16));
            let o = with_roots([holder, e], |_| alloc(HOLDER.desc(), 16));
            write_u64(o, 0, HOLDER.desc() as usize as u64 + 4);
            (e, o)
        };
        with_roots([holder, empty, outside], |_| collect_and_sweep());
        assert!(alive(holder) && alive(empty) && alive(outside));
        assert!(alive(target));
        assert_eq!(value(target), 9);
        with_roots([empty, outside], |_| collect_and_sweep());
        assert!(!alive(holder));
        assert!(!alive(target));
    }

    #[test]
    fn roots_outside_the_heap_are_ignored() {
        let _heap = heap_lock();
        let local = 42u64;
        let in_pool = heap().pool.last().copied().unwrap_or(0) + 100;
        let chunk_end = heap().chunks.last().map_or(0, |c| c.1);
        let odd = [
            &local as *const u64 as Ref,
            crate::string::empty(),
            crate::string::from_bool(true),
            1 as Ref,
            usize::MAX as Ref,
            in_pool as Ref,
            chunk_end as Ref,
            weft_desc_string_addr(),
        ];
        with_roots(odd, |_| collect_and_sweep());
        // The static strings were not written to (they live in read-only data).
        // SAFETY: static objects are always readable.
        unsafe { assert_eq!((*crate::string::empty()).bits, STATIC) };
    }

    fn weft_desc_string_addr() -> Ref {
        &weft_desc_string as *const TypeDesc as Ref
    }

    #[test]
    fn static_objects_reached_from_the_heap_are_left_alone() {
        let _heap = heap_lock();
        let literal = crate::string::from_bool(false);
        // SAFETY: a box of a reference, pointing at a static string.
        let boxed = unsafe {
            let b = alloc(crate::abi::weft_desc_box_ref.desc(), 8);
            write_u64(b, 0, ref_to_slot(literal));
            b
        };
        with_roots([boxed], |_| {
            collect_and_sweep();
            collect_and_sweep();
        });
        assert!(alive(boxed));
        // SAFETY: static objects are always readable.
        unsafe { assert_eq!((*literal).bits, STATIC) };
    }

    #[test]
    fn a_long_list_is_marked_without_recursion() {
        let _heap = heap_lock();
        const LENGTH: i64 = 1_000_000;
        with_roots([null_mut()], |slots| {
            for i in 0..LENGTH {
                let head = node(slot_to_ref_usize(slots[0].get()), i, null_mut());
                slots[0].set(head as usize);
            }
            collect_and_sweep();
            let mut n = slot_to_ref_usize(slots[0].get());
            let mut expected = LENGTH - 1;
            while !n.is_null() {
                assert!(alive(n));
                assert_eq!(value(n), expected);
                expected -= 1;
                n = left(n);
            }
            assert_eq!(expected, -1);
        });
    }

    fn slot_to_ref_usize(v: usize) -> Ref {
        v as Ref
    }

    #[test]
    fn a_huge_reference_array_is_marked_in_bounded_slices() {
        let _heap = heap_lock();
        const COUNT: usize = 2_000_000;
        // SAFETY: the buffer is rooted while its elements are made.
        unsafe {
            let buf = crate::array::new_slots(&weft_desc_ref_slots, COUNT);
            with_roots([buf], |_| {
                for i in 0..COUNT {
                    let n = node(null_mut(), i as i64, null_mut());
                    write_u64(buf, 8 + 8 * i, ref_to_slot(n));
                }
                collect_and_sweep();
                for i in (0..COUNT).step_by(997) {
                    let n = slot_to_ref_usize(read_u64(buf, 8 + 8 * i) as usize);
                    assert!(alive(n));
                    assert_eq!(value(n), i as i64);
                }
            });
        }
        // The stack held slices of the array and their children, not all of it.
        assert!(
            mark_stack_capacity() < 64 * MARK_SLICE,
            "{}",
            mark_stack_capacity()
        );
    }

    #[test]
    fn garbage_is_reused_so_the_heap_stays_small() {
        let _heap = heap_lock();
        collect_and_sweep();
        let before = stats();
        // 256 MiB of short-lived objects, with one long-lived list growing slowly.
        with_roots([null_mut()], |slots| {
            for i in 0..8_000_000i64 {
                let n = node(null_mut(), i, null_mut());
                if i % 1000 == 0 {
                    let head = node(slot_to_ref_usize(slots[0].get()), i, n);
                    slots[0].set(head as usize);
                }
            }
        });
        let after = stats();
        assert!(after.collections - before.collections >= 10);
        assert!(after.allocated - before.allocated >= 8_000_000 * 32);
        // Earlier tests may have left a large heap; this one must not grow it much.
        let growth = after.heap_bytes.saturating_sub(before.heap_bytes);
        assert!(growth < 16 << 20, "the heap grew by {growth} bytes");
    }

    #[test]
    fn freed_cells_are_handed_out_again() {
        let _heap = heap_lock();
        // 2 KiB buffers: a size class no other test uses, 31 to a page.
        let buffer = || {
            // SAFETY: a scalar buffer; nothing to root.
            unsafe { crate::array::new_slots(&weft_desc_slots, 249) as usize }
        };
        let garbage: Vec<usize> = (0..100).map(|_| buffer()).collect();
        collect_and_sweep();
        let again: Vec<usize> = (0..1000).map(|_| buffer()).collect();
        assert!(again.iter().any(|b| garbage.contains(b)));
    }

    #[test]
    fn new_objects_are_zeroed_even_in_reused_cells() {
        let _heap = heap_lock();
        for _ in 0..3 {
            for _ in 0..10_000 {
                // SAFETY: a scalar buffer of 5 slots, filled with ones.
                unsafe {
                    let b = crate::array::new_slots(&weft_desc_slots, 5);
                    assert_eq!((*b).bits, 0);
                    for i in 0..5 {
                        assert_eq!(read_u64(b, 8 + 8 * i), 0);
                        write_u64(b, 8 + 8 * i, u64::MAX);
                    }
                }
            }
            collect_and_sweep();
        }
    }

    #[test]
    fn stress_mode_collects_every_time_and_poisons_the_dead() {
        let _heap = heap_lock();
        set_stress(true);
        let before = stats().collections;
        let kept = node(null_mut(), 11, null_mut());
        let dead = with_roots([kept], |_| {
            let dead = node(null_mut(), 12, null_mut());
            // Another size class, so the collection it makes leaves the cell free.
            // SAFETY: a plain scalar box.
            let _ = unsafe { alloc(&crate::abi::weft_desc_box_scalar, 8) };
            dead
        });
        set_stress(false);
        assert!(stats().collections - before >= 3);
        assert!(alive(kept));
        assert_eq!(value(kept), 11);
        // SAFETY: the dead cell still belongs to the heap.
        unsafe {
            assert_eq!((*dead).desc, POISON_DESC);
            assert!(is_free(dead));
            assert_eq!(*payload(dead, 8), POISON_BYTE);
        }
    }

    #[test]
    fn the_threshold_follows_the_live_heap() {
        let _heap = heap_lock();
        with_roots([null_mut()], |slots| {
            for i in 0..400_000 {
                let head = node(slot_to_ref_usize(slots[0].get()), i, null_mut());
                slots[0].set(head as usize);
            }
            collect_and_sweep();
            let live = stats().live;
            assert!(live >= 400_000 * 48, "live {live}");
            assert!(threshold() >= live);
        });
        collect_and_sweep();
        assert_eq!(threshold(), MIN_THRESHOLD_BYTES);
    }

    #[test]
    fn size_classes_cover_every_small_size() {
        for bytes in (16..=MAX_SMALL_BYTES).step_by(8) {
            let class = CLASS_OF[(bytes + 15) >> 4] as usize;
            assert!(CLASS_SIZES[class] >= bytes);
            assert!(class == 0 || CLASS_SIZES[class - 1] < bytes);
        }
        assert_eq!(NODE.head.size, 24);
    }
}
