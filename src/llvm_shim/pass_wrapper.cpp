// The one piece of C++ in weft: LLVM's C API can run a pipeline by name
// (LLVMRunPasses) but cannot add a pass of our own to the new pass manager.
// This shim builds the PassBuilder for a target machine, registers Weft's
// gc-frame-spill pass (a callback into Rust, src/gc/; the trampolines are in src/optimize.rs) where it must
// run -- after inlining and scalar simplification, before CoroSplit -- and
// runs `default<On>`. It mirrors LLVMRunPasses (PassBuilderBindings.cpp) so
// the pipeline is otherwise exactly LLVM's. build.rs compiles it with the
// `cc` crate against the libLLVM-22.so that llvm-sys links.
//
// Placement (checked by the tests in src/gc/tests, which print the pipeline):
//  - O1..O3: the ScalarOptimizerLate extension point, the end of the function
//    simplification pipeline inside the CGSCC walk, i.e. after the inliner
//    and before coro-split of the same SCC.
//  - O0: buildO0DefaultPipeline invokes every function extension point in one
//    function(...) group after always-inline and before coro-cond(coro-early,
//    cgscc(coro-split), ...); we use VectorizerEnd there, as DESIGN.md says.
//    So at O0 the pass sees coroutines before CoroEarly, at O1+ after it.
// Each extension point is guarded by level so the pass runs exactly once per
// function visit (VectorizerEnd at O1+ runs after CoroSplit, too late).

#include "llvm-c/Core.h"
#include "llvm-c/Error.h"
#include "llvm-c/TargetMachine.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/InstrTypes.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/IR/PassTimingInfo.h"
#include "llvm/Pass.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/StandardInstrumentations.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/ModRef.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/Local.h"
#include "llvm/Transforms/Utils/ValueMapper.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

using namespace llvm;

extern "C" {
// Returns bit 0 set when the function changed, bit 1 when its CFG changed.
typedef unsigned (*WeftFunctionCallback)(LLVMValueRef Fn, void *Ctx);
}

extern "C" unsigned weft_fold_constant_branches(LLVMValueRef Fn);

namespace {

constexpr unsigned WeftChanged = 1;
constexpr unsigned WeftChangedCfg = 2;

struct WeftGcFrameSpillPass : PassInfoMixin<WeftGcFrameSpillPass> {
  WeftFunctionCallback Callback;
  void *Ctx;
  const char *Name;

  WeftGcFrameSpillPass(WeftFunctionCallback Callback, void *Ctx,
                       const char *Name = "weft-gc-frame-spill")
      : Callback(Callback), Ctx(Ctx), Name(Name) {}

  PreservedAnalyses run(Function &F, FunctionAnalysisManager &) {
    if (F.isDeclaration())
      return PreservedAnalyses::all();
    unsigned Result = Callback(wrap(&F), Ctx);
    if (!(Result & WeftChanged))
      return PreservedAnalyses::all();
    if (Result & WeftChangedCfg)
      return PreservedAnalyses::none();
    PreservedAnalyses PA;
    PA.preserveSet<CFGAnalyses>();
    return PA;
  }

  // Not an optimisation: it must run on optnone functions too and must not be
  // skipped by opt-bisect.
  static bool isRequired() { return true; }

  void printPipeline(raw_ostream &OS, function_ref<StringRef(StringRef)>) {
    OS << Name;
  }
};

// -O0: after the coroutine passes, each CoroSplit clone's branches on a
// suspend's constant outcome are folded and its dead copies deleted
// (`weft_fold_constant_branches`), as the thaw point does at -O1 and up.
// Unfolded, every clone of a generator keeps a chain from each resume point
// into the next, which WebAssembly's irreducible-control-flow pass took
// seconds over for a generator of 1,000 yields.
struct WeftFoldBranchesPass : PassInfoMixin<WeftFoldBranchesPass> {
  PreservedAnalyses run(Function &F, FunctionAnalysisManager &) {
    // Coroutines only (their ramps and clones carry `!weft.coro.roots`):
    // other functions keep the -O0 code as generated.
    if (F.isDeclaration() || !F.getMetadata("weft.coro.roots") ||
        !weft_fold_constant_branches(wrap(&F)))
      return PreservedAnalyses::all();
    return PreservedAnalyses::none();
  }
  static bool isRequired() { return true; }
};

TargetMachine *unwrapMachine(LLVMTargetMachineRef P) {
  return reinterpret_cast<TargetMachine *>(P);
}

// Registers the pass at its extension points and parses `default<On>` into MPM.
// `Late` (may be null) runs after every InstCombine (the peephole extension
// point); the pass uses it to freeze a coroutine's arithmetic after the last
// InstCombine before CoroSplit, which would otherwise analyse each freeze at
// a cost that grows with the function (see `freeze_across_suspends`).
// `Thaw` (may be null) runs at the CGSCC optimizer-late point, which the CGSCC
// walk reaches again for a coroutine's ramp and clones right after CoroSplit,
// before their function simplification; the pass removes those freezes there
// (each one costs EarlyCSE and InstCombine a walk up the dominator tree).
Error buildPipeline(PassBuilder &PB, ModulePassManager &MPM, unsigned Level,
                    WeftFunctionCallback Callback, WeftFunctionCallback Late,
                    WeftFunctionCallback Thaw, void *Ctx) {
  if (Callback) {
    PB.registerScalarOptimizerLateEPCallback(
        [=](FunctionPassManager &FPM, OptimizationLevel L) {
          if (L != OptimizationLevel::O0)
            FPM.addPass(WeftGcFrameSpillPass(Callback, Ctx));
        });
    if (Late)
      PB.registerPeepholeEPCallback(
          [=](FunctionPassManager &FPM, OptimizationLevel L) {
            if (L != OptimizationLevel::O0)
              FPM.addPass(WeftGcFrameSpillPass(Late, Ctx, "weft-freeze-across-suspends"));
          });
    if (Thaw)
      PB.registerCGSCCOptimizerLateEPCallback(
          [=](CGSCCPassManager &CGPM, OptimizationLevel L) {
            if (L != OptimizationLevel::O0) {
              FunctionPassManager FPM;
              FPM.addPass(WeftGcFrameSpillPass(Thaw, Ctx, "weft-thaw-after-split"));
              CGPM.addPass(createCGSCCToFunctionPassAdaptor(std::move(FPM)));
            }
          });
    PB.registerOptimizerLastEPCallback(
        [=](ModulePassManager &MPM, OptimizationLevel L, ThinOrFullLTOPhase) {
          if (L == OptimizationLevel::O0)
            MPM.addPass(createModuleToFunctionPassAdaptor(WeftFoldBranchesPass()));
        });
    PB.registerVectorizerEndEPCallback(
        [=](FunctionPassManager &FPM, OptimizationLevel L) {
          if (L == OptimizationLevel::O0)
            FPM.addPass(WeftGcFrameSpillPass(Callback, Ctx));
        });
  }
  std::string Pipeline = "default<O" + std::to_string(Level > 3 ? 3 : Level) + ">";
  return PB.parsePassPipeline(MPM, Pipeline);
}

// WEFT_TIME_FUNCTIONS=1: the time function passes spend on each function,
// summed over passes and printed (largest first) after the pipeline. Which
// function a slow pass is slow on is what -time-passes cannot say.
struct FunctionTimes {
  using Clock = std::chrono::steady_clock;
  std::map<std::string, double> Seconds;
  std::map<std::string, std::map<std::string, double>> ByPass;
  std::vector<Clock::time_point> Started;

  static bool leaf(StringRef PassID) {
    return !PassID.starts_with("PassManager") && !PassID.contains("PassAdaptor");
  }

  void registerCallbacks(PassInstrumentationCallbacks &PIC) {
    PIC.registerBeforeNonSkippedPassCallback([this](StringRef PassID, Any IR) {
      if (leaf(PassID) && any_cast<const Function *>(&IR))
        Started.push_back(Clock::now());
    });
    auto Done = [this](StringRef PassID, const Function *F) {
      if (!leaf(PassID) || Started.empty())
        return;
      double Spent = std::chrono::duration<double>(Clock::now() - Started.back()).count();
      Started.pop_back();
      std::string Name = F ? F->getName().str() : "(deleted)";
      Seconds[Name] += Spent;
      ByPass[Name][PassID.str()] += Spent;
    };
    PIC.registerAfterPassCallback(
        [Done](StringRef PassID, Any IR, const PreservedAnalyses &) {
          if (auto **F = any_cast<const Function *>(&IR))
            Done(PassID, *F);
        });
    PIC.registerAfterPassInvalidatedCallback(
        [this, Done](StringRef PassID, const PreservedAnalyses &) {
          // The IR unit is gone; only function passes left a start time.
          (void)this;
          Done(PassID, nullptr);
        });
  }

  void print(raw_ostream &OS) {
    std::vector<std::pair<double, std::string>> Order;
    for (auto &[Name, Secs] : Seconds)
      Order.push_back({Secs, Name});
    std::sort(Order.rbegin(), Order.rend());
    OS << "function passes, seconds per function (largest first):\n";
    for (size_t I = 0; I < Order.size() && I < 12; ++I) {
      auto &[Secs, Name] = Order[I];
      OS << format("%9.3f  %s:", Secs, Name.c_str());
      std::vector<std::pair<double, std::string>> Passes;
      for (auto &[Pass, S] : ByPass[Name])
        Passes.push_back({S, Pass});
      std::sort(Passes.rbegin(), Passes.rend());
      for (size_t J = 0; J < Passes.size() && J < 5; ++J)
        OS << format(" %s %.3f", Passes[J].second.c_str(), Passes[J].first);
      OS << "\n";
    }
  }
};

} // namespace

extern "C" {

// Runs `default<On>` on the module with the gc-frame-spill callback in place.
// Returns null on success or an error (free with LLVMConsumeError or
// LLVMGetErrorMessage). Mirrors LLVMRunPasses with default options.
LLVMErrorRef weft_run_pipeline(LLVMModuleRef M, LLVMTargetMachineRef TM,
                               unsigned Level, WeftFunctionCallback Callback,
                               WeftFunctionCallback Late,
                               WeftFunctionCallback Thaw, void *Ctx) {
  Module *Mod = unwrap(M);
  PassInstrumentationCallbacks PIC;
  PipelineTuningOptions PTO;
  PassBuilder PB(unwrapMachine(TM), PTO, std::nullopt, &PIC);

  LoopAnalysisManager LAM;
  FunctionAnalysisManager FAM;
  CGSCCAnalysisManager CGAM;
  ModuleAnalysisManager MAM;
  PB.registerLoopAnalyses(LAM);
  PB.registerFunctionAnalyses(FAM);
  PB.registerCGSCCAnalyses(CGAM);
  PB.registerModuleAnalyses(MAM);
  PB.crossRegisterProxies(LAM, FAM, CGAM, MAM);

  StandardInstrumentations SI(Mod->getContext(), /*DebugLogging=*/false,
                              /*VerifyEach=*/false);
  SI.registerCallbacks(PIC, &MAM);
  FunctionTimes Times;
  const char *TimeFunctions = std::getenv("WEFT_TIME_FUNCTIONS");
  bool TimingFunctions = TimeFunctions && *TimeFunctions && *TimeFunctions != '0';
  if (TimingFunctions)
    Times.registerCallbacks(PIC);

  ModulePassManager MPM;
  if (Error E = buildPipeline(PB, MPM, Level, Callback, Late, Thaw, Ctx))
    return wrap(std::move(E));
  MPM.run(*Mod, MAM);
  // -time-passes (WEFT_LLVM_ARGS): the timers' groups are process-wide and
  // would only print from LLVM's static destructors, which never run here.
  if (TimingFunctions)
    Times.print(errs());
  if (TimePassesIsEnabled) {
    SI.getTimePasses().setOutStream(errs());
    SI.getTimePasses().print();
  }
  return nullptr;
}

// The textual pipeline weft_run_pipeline runs at this level (with the
// gc-frame-spill pass shown as `weft-gc-frame-spill`), or the error message.
// Free the result with LLVMDisposeMessage.
char *weft_describe_pipeline(LLVMTargetMachineRef TM, unsigned Level) {
  PassInstrumentationCallbacks PIC;
  PipelineTuningOptions PTO;
  PassBuilder PB(unwrapMachine(TM), PTO, std::nullopt, &PIC);
  ModulePassManager MPM;
  // A non-null callback that is never called: the pipeline is only printed.
  WeftFunctionCallback Never = [](LLVMValueRef, void *) -> unsigned { return 0; };
  std::string Text;
  raw_string_ostream OS(Text);
  if (Error E = buildPipeline(PB, MPM, Level, Never, Never, Never, nullptr)) {
    OS << "error: " << toString(std::move(E));
  } else {
    MPM.printPipeline(OS, [&PIC](StringRef ClassName) {
      StringRef Name = PIC.getPassNameForClassName(ClassName);
      return Name.empty() ? ClassName : Name;
    });
  }
  OS.flush();
  return LLVMCreateMessage(Text.c_str());
}

// The memory effects of a call or invoke (call-site and callee attributes and
// operand bundles combined), as MemoryEffects::toIntValue: two bits per
// location (ArgMem, InaccessibleMem, ErrnoMem, Other, target locations), bit 0
// of a pair = may read, bit 1 = may write. All ones for a non-call.
uint32_t weft_call_memory_effects(LLVMValueRef Call) {
  auto *CB = dyn_cast_or_null<CallBase>(unwrap(Call));
  if (!CB)
    return MemoryEffects::unknown().toIntValue();
  return CB->getMemoryEffects().toIntValue();
}

// -time-passes for the legacy pass manager that runs code generation: its
// timers, too, would only print from LLVM's static destructors.
void weft_report_codegen_timings(void) {
  if (TimePassesIsEnabled)
    reportAndResetTimings(&errs());
}

// A suspend's landing block (only a phi of its outcome: 0 from the resume
// switch, -1 from the code that suspended) followed by a block holding only
// the switch on that phi: each constant's predecessor goes straight to the
// case it selects. Nothing else folds these at -O0, and the chain they form
// through every resume point of a clone is what made WebAssembly's
// irreducible-control-flow pass slow.
static bool threadConstantPhis(Function &F) {
  bool Changed = false;
  for (BasicBlock &S : F) {
    Instruction *T = S.getTerminator();
    if (!T || &S.front() != T)
      continue;
    Value *Cond = nullptr;
    if (auto *Sw = dyn_cast<SwitchInst>(T))
      Cond = Sw->getCondition();
    else if (auto *Br = dyn_cast<BranchInst>(T); Br && Br->isConditional())
      Cond = Br->getCondition();
    auto *P = dyn_cast_or_null<PHINode>(Cond);
    if (!P || !P->hasOneUse())
      continue;
    BasicBlock *L = P->getParent();
    auto *LBr = dyn_cast<BranchInst>(L->getTerminator());
    if (L == &S || S.getSinglePredecessor() != L || !LBr || !LBr->isUnconditional() ||
        &L->front() != P || P->getNextNode() != LBr)
      continue;
    for (unsigned I = P->getNumIncomingValues(); I-- > 0;) {
      auto *C = dyn_cast<ConstantInt>(P->getIncomingValue(I));
      auto *PredBr = dyn_cast<BranchInst>(P->getIncomingBlock(I)->getTerminator());
      if (!C || !PredBr || !PredBr->isUnconditional())
        continue;
      BasicBlock *Dest;
      if (auto *Sw = dyn_cast<SwitchInst>(T))
        Dest = Sw->findCaseValue(C)->getCaseSuccessor();
      else
        Dest = cast<BranchInst>(T)->getSuccessor(C->isZero() ? 1 : 0);
      if (isa<PHINode>(Dest->front()))
        continue;
      PredBr->setSuccessor(0, Dest);
      P->removeIncomingValue(I, /*DeletePHIIfEmpty=*/false);
      Changed = true;
    }
  }
  return Changed;
}

// Folds every branch and switch on a constant and deletes the blocks no
// longer reachable; returns whether anything changed. CoroSplit leaves each
// clone a whole copy of the coroutine in which a suspend's outcome is a
// constant (its resume or its cleanup edge): done right after the split,
// this is linear, where JumpThreading took a walk per dead block. Branches
// on a landing phi are threaded first (`threadConstantPhis`).
unsigned weft_fold_constant_branches(LLVMValueRef Fn) {
  auto *F = dyn_cast_or_null<Function>(unwrap(Fn));
  if (!F || F->isDeclaration())
    return 0;
  bool Changed = threadConstantPhis(*F);
  for (BasicBlock &BB : *F)
    Changed |= ConstantFoldTerminator(&BB, /*DeleteDeadConditions=*/true);
  Changed |= removeUnreachableBlocks(*F);
  // What is left of each dead path is a chain of empty blocks (a suspend's
  // resume and landing blocks) into one join. Jump straight to the join:
  // linear, where JumpThreading and SimplifyCFG rebuild the join's
  // predecessor set for every block they fold into it.
  SmallVector<BasicBlock *, 64> Empty;
  for (BasicBlock &BB : *F) {
    auto *Br = dyn_cast<BranchInst>(BB.getTerminator());
    if (&BB == &F->getEntryBlock() || !Br || !Br->isUnconditional() ||
        &BB.front() != Br)
      continue;
    BasicBlock *Succ = Br->getSuccessor(0);
    if (Succ != &BB && !isa<PHINode>(Succ->front()))
      Empty.push_back(&BB);
  }
  for (BasicBlock *BB : Empty) {
    BB->replaceAllUsesWith(BB->getTerminator()->getSuccessor(0));
    BB->eraseFromParent();
    Changed = true;
  }
  return Changed;
}

// Moves the coroutines with more than `Limit` suspend points into a new
// module, which the driver optimises and emits as at -O0 (see
// `optimize::HUGE_SUSPENDS`). Every local symbol of the module becomes a
// hidden global one, so that the two objects link as one; the wrappers the
// moved coroutines' `llvm.coro.await.suspend.*` calls name (symmetric
// transfer) are copied along, private, so that CoroSplit still sees their
// bodies. Returns null, the module
// unchanged, when no coroutine is that big.
LLVMModuleRef weft_split_huge(LLVMModuleRef MRef, unsigned Limit) {
  Module &M = *unwrap(MRef);
  SmallPtrSet<const Function *, 4> Moved;
  // The wrappers their `llvm.coro.await.suspend.*` calls name.
  SmallPtrSet<const Function *, 4> Copied;
  for (Function &F : M) {
    if (F.isDeclaration() || !F.isPresplitCoroutine())
      continue;
    unsigned Suspends = 0;
    SmallPtrSet<const Function *, 4> Wrappers;
    for (Instruction &I : instructions(F)) {
      auto *II = dyn_cast<IntrinsicInst>(&I);
      if (!II)
        continue;
      switch (II->getIntrinsicID()) {
      case Intrinsic::coro_suspend:
        ++Suspends;
        break;
      case Intrinsic::coro_await_suspend_void:
      case Intrinsic::coro_await_suspend_bool:
      case Intrinsic::coro_await_suspend_handle:
        if (auto *W = dyn_cast<Function>(II->getArgOperand(2)))
          Wrappers.insert(W);
        break;
      default:
        break;
      }
    }
    if (Suspends > Limit) {
      Moved.insert(&F);
      Copied.insert(Wrappers.begin(), Wrappers.end());
    }
  }
  if (Moved.empty())
    return nullptr;
  unsigned Unnamed = 0;
  for (GlobalValue &G : M.global_values()) {
    if (!G.hasLocalLinkage())
      continue;
    if (!G.hasName())
      G.setName("weft.split." + Twine(Unnamed++));
    G.setLinkage(GlobalValue::ExternalLinkage);
    G.setVisibility(GlobalValue::HiddenVisibility);
  }
  ValueToValueMapTy VMap;
  std::unique_ptr<Module> Out =
      CloneModule(M, VMap, [&](const GlobalValue *G) {
        auto *F = dyn_cast<Function>(G);
        return F && (Moved.count(F) || Copied.count(F));
      });
  for (const Function *F : Copied) {
    auto *Copy = cast<Function>(VMap[F]);
    Copy->setLinkage(GlobalValue::PrivateLinkage);
    Copy->setVisibility(GlobalValue::DefaultVisibility);
  }
  // The lists of used globals stay with the first module.
  for (const char *Name : {"llvm.used", "llvm.compiler.used", "llvm.global_ctors",
                           "llvm.global_dtors"})
    if (GlobalVariable *G = Out->getNamedGlobal(Name))
      G->eraseFromParent();
  for (const Function *F : Moved)
    const_cast<Function *>(F)->deleteBody();
  return wrap(Out.release());
}

} // extern "C"
