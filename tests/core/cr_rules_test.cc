// The control-register rule table (core/cr_rules.h): every rule with one register set
// that keeps it and one that breaks it, and the two ways callers walk the table.
#include "core/cr_rules.h"

#include <gtest/gtest.h>

#include <set>

#include "tdsim/abi/tdx.h"

namespace tdsim {
namespace {

using namespace abi;
constexpr uint64_t kPagingCr0 = 0x80000021;  // PG NE PE
constexpr uint64_t kTdCr4 = 0x40260;         // PAE MCE OSFXSR OSXSAVE
constexpr uint64_t kLma = kTdInitEfer | kEferLma;

// The stub before its MOVs, and a TD in 64-bit mode after them.
constexpr CrRegs kReset{kTdInitCr0, 0, kTdInitCr4, kTdInitEfer, false, 48};
constexpr CrRegs kLong{kPagingCr0, 0x1000, kTdCr4, kLma, true, 48};
// The reset state under a 5-level layout (--paging-levels 5).
constexpr CrRegs kReset5{kTdInitCr0, 0, kTdInitCr4, kTdInitEfer, false, 52, 5};

CrRegs with(CrRegs s, int cr, uint64_t v) {
  if (cr == 0) s.cr0 = v;
  if (cr == 3) s.cr3 = v;
  if (cr == 4) s.cr4 = v;
  if (cr == -1) s.efer = v;
  return s;
}

struct Case {
  std::string_view id;
  CrRegs before;
  int reg;  // the register `ok` and `bad` are loaded into (-1: EFER)
  uint64_t ok, bad;
  const char* text;  // in the message for `bad`
};

const Case kCases[] = {
    {kRuleCr0Reserved, kLong, 0, kPagingCr0, (1ull << 32) | kPagingCr0, "sets reserved bits 63:32"},
    {kRuleCr0PgWithoutPe, kReset, 0, kPagingCr0, 0x80000020, "sets PG without PE"},
    {kRuleCr0NwWithoutCd, kReset, 0, 0x60000021, 0x20000021, "sets NW without CD"},
    {kRuleCr4PaeMissing, with(kReset, 4, 0x40), 0, 0x21, kPagingCr0,
     "CR4 0x40 lacks PAE (0x20): paging with EFER.LME needs it; MOV to CR0 0x80000021 with PG=1 raises #GP(0)"},
    {kRuleCr0PgClearIn64Bit, kLong, 0, kPagingCr0, 0x21, "CR0 0x21 clears PG in 64-bit mode"},
    {kRuleCr0FixedBits, kReset, 0, 0x21, 0x1, "CR0 0x1 clears NE: TDX fixes PE and NE to 1"},
    {kRuleCr4PaeClearedInIa32e, kLong, 4, kTdCr4, kTdCr4 & ~kCr4Pae, "clears PAE while IA-32e mode is active"},
    {kRuleCr4La57ChangedInIa32e, kLong, 4, kTdCr4, kTdCr4 | kCr4La57, "changes LA57 while IA-32e mode is active"},
    {kRuleCr4FixedBits, kReset, 4, kTdCr4, kTdCr4 | kCr4Vmxe, "CR4.VMXE set: TDX fixes VMXE to 0 (CR4 0x42260)"},
    {kRuleCr3Reserved, kLong, 3, (1ull << 63) | 0x1000, 1ull << 48, "sets bits above MAXPHYADDR 48"},
    {kRuleEferLmeClear, kLong, -1, kTdInitEfer, 0x801, "EFER 0x801 has LME clear"},
    {kRuleCr0PgMissing, kReset, 0, kPagingCr0, 0x21, "CR0 0x21 lacks PG: the stub cannot reach 64-bit mode"},
    {kRuleCr4La57Set, kReset, 4, kTdCr4, kTdCr4 | kCr4La57, "sets LA57 (0x1000)"},
    {kRuleCr4La57Missing, kReset5, 4, kTdCr4 | kCr4La57, kTdCr4, "lacks LA57 (0x1000)"},
};

TEST(CrRules, EveryRuleKeepsOneStateAndBreaksAnother) {
  std::set<std::string_view> tested;
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(c.id));
    const CrRule& r = cr_rule(c.id);
    EXPECT_EQ(r.id, c.id);
    EXPECT_FALSE(r.broken(c.before, with(c.before, c.reg, c.ok)));
    const CrRegs bad = with(c.before, c.reg, c.bad);
    ASSERT_TRUE(r.broken(c.before, bad));
    EXPECT_NE(r.message(c.before, bad).find(c.text), std::string::npos) << r.message(c.before, bad);
    tested.insert(c.id);
  }
  for (const CrRule& r : cr_rules()) EXPECT_TRUE(tested.count(r.id)) << r.id << " has no case here";
}

TEST(CrRules, IdsAreUniqueAndUnknownIdsAreAnError) {
  std::set<std::string_view> ids;
  for (const CrRule& r : cr_rules()) EXPECT_TRUE(ids.insert(r.id).second) << r.id;
  EXPECT_THROW(cr_rule("cr0-no-such-rule"), std::out_of_range);
}

TEST(CrRules, ConsequenceAndFieldSayWhatFaultsAndWhatToFix) {
  EXPECT_EQ(cr_rule(kRuleCr4PaeMissing).mov_cr, 0) << "the MOV to CR0 faults";
  EXPECT_EQ(cr_rule(kRuleCr4PaeMissing).field, "boot_params.cr4") << "CR4 is what to fix";
  EXPECT_EQ(cr_rule(kRuleCr4PaeMissing).consequence, CrConsequence::kGp);
  EXPECT_EQ(cr_rule(kRuleCr4FixedBits).consequence, CrConsequence::kTdxFixedGp);
  EXPECT_EQ(cr_rule(kRuleCr0FixedBits).consequence, CrConsequence::kTdxFixedGp);
  for (std::string_view id : {kRuleCr0PgMissing, kRuleCr4La57Set, kRuleEferLmeClear}) {
    EXPECT_EQ(cr_rule(id).mov_cr, -1) << id;
    EXPECT_EQ(cr_rule(id).consequence, CrConsequence::kBootContract) << id;
  }
}

TEST(CrRules, AMovReportsTheFirstRuleItBreaks) {
  EXPECT_FALSE(check_mov_to_cr(4, kTdCr4, kReset));
  // PG without PE also clears a TDX fixed bit; the architectural rule comes first.
  auto b = check_mov_to_cr(0, 0x80000020, with(kReset, 4, kTdCr4));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->rule->id, kRuleCr0PgWithoutPe);
  // Boot-contract rules never fault a MOV.
  EXPECT_FALSE(check_mov_to_cr(4, kTdCr4 | kCr4La57, kReset));
  // Outside 64-bit mode the MOV loads the low half.
  EXPECT_FALSE(check_mov_to_cr(0, 0xffffffff00000000ull | kPagingCr0, with(kReset, 4, kTdCr4)));
}

TEST(CrRules, BootRegistersAreJudgedAsTheStubLoadsThem) {
  EXPECT_TRUE(check_boot_registers(kPagingCr0, kTdCr4).empty());
  std::vector<CrBreak> v = check_boot_registers(kPagingCr0, kTdCr4 & ~kCr4Pae);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule->id, kRuleCr4PaeMissing);
  v = check_boot_registers(0x21, (kTdCr4 | kCr4Vmxe | kCr4La57));
  ASSERT_EQ(v.size(), 3u);  // table order
  EXPECT_EQ(v[0].rule->id, kRuleCr4FixedBits);
  EXPECT_EQ(v[1].rule->id, kRuleCr0PgMissing);
  EXPECT_EQ(v[2].rule->id, kRuleCr4La57Set);
}

}  // namespace
}  // namespace tdsim
