// The tuning constants of AiRbac, in one place: cache and table sizes, the thresholds where one strategy gives way to
// another, internal bounds against hostile input, and the defaults of the documented limits (PolicyCompilerOptions and
// YamlLoadLimits, docs/policy-language.md, section 10; their public properties stay where they are and take their
// defaults from here). Each value cites what set it: a benchmark (class.method in benchmarks/AiRbac.Benchmarks, and the
// section of docs/benchmarks.md that reports it), a test, or the reason when nothing was measured.
//
// Linked source: Directory.Build.props compiles this file into every shipped project (src/), each as its own internal
// class. Constants are inlined where they are used, so each package uses the values it was built with and no package
// reads another's internals (the packages version separately; InternalsVisibleTo between them would tie them
// together). Values that are part of an encoding or a layout (bit widths, field counts, size estimates) and bounds that
// only shorten a message stay next to the code that depends on them.

namespace AiRbac;

/// <summary>The tuning constants of every AiRbac package (see the comment at the top of the file).</summary>
internal static class Tuning
{
    /// <summary>
    /// The defaults of <c>PolicyCompilerOptions</c> (docs/policy-language.md, section 10) and the compiler's internal
    /// bounds. Reason: no policy within the YAML limits may cost more than a few seconds or bounded memory to compile
    /// (tests/AiRbac.Yaml.Tests/HostilePolicyCompileTests.cs builds the worst cases), while the reference policy of
    /// 10,011 roles and about 51,500 rules stays far inside every limit (CompileBenchmarks.Compile at scale-10000:
    /// about 120 ms; docs/benchmarks.md, "Loading and compiling the policy (per policy)").
    /// </summary>
    internal static class Compile
    {
        /// <summary><c>MaxInheritanceDepth</c>: deeper chains than any real role hierarchy; bounds the depth pass.</summary>
        internal const int MaxInheritanceDepth = 32;

        /// <summary><c>MaxInheritedRoles</c>: the ancestor lists kept (4 bytes each, so at most about 4 MB).</summary>
        internal const int MaxInheritedRoles = 1_000_000;

        /// <summary><c>MaxExpandedBindings</c>: bindings with groups expanded; a group named by many subjects multiplies.</summary>
        internal const int MaxExpandedBindings = 1_000_000;

        /// <summary><c>MaxRules</c>: a rule costs about 1.5 KB while it is compiled, so 500,000 stay under 1 GiB.</summary>
        internal const int MaxRules = 500_000;

        /// <summary><c>MaxRoleChecks</c>: binding lint and the mutually_exclusive join check, a few seconds at most.</summary>
        internal const long MaxRoleChecks = 20_000_000;

        /// <summary>
        /// The approver lint (<c>approval_unsatisfiable</c>, <c>approvers_below_count</c>): at most this many approver checks
        /// (one rule, one bound subject, one of its scopes), each counted once plus once per <see cref="ApproverCheckRoles"/>
        /// roles its bindings make effective; about 0.3 to 0.4 µs each on a 2-core container, so 2 s at most. Past it the
        /// lint is skipped (no warning rather than a slow compile).
        /// </summary>
        internal const long MaxApproverChecks = 5_000_000;

        /// <summary>How many roles walked by one approver check cost as much as the check itself (measured: about 0.4 ns a role, 300 ns a check).</summary>
        internal const int ApproverCheckRoles = 1_024;

        /// <summary><c>MaxPatternPairs</c>: catalog and lint pattern comparisons, a few seconds at most.</summary>
        internal const long MaxPatternPairs = 20_000_000;

        /// <summary><c>MaxInheritanceSteps</c>: steps of the ancestor computation, a few seconds at most.</summary>
        internal const long MaxInheritanceSteps = 20_000_000;

        /// <summary><c>MaxPatternMatchCells</c>: glob-matching work of the catalog and lint checks, a few seconds at most.</summary>
        internal const long MaxPatternMatchCells = 200_000_000;

        /// <summary>
        /// The characters of a prefix or equality check counted as one matching cell for <c>MaxPatternMatchCells</c>:
        /// those checks compare vectors of characters at a time, a glob simulation cell is several dependent steps.
        /// Documented in docs/policy-language.md, section 10 ("one cell per 16 characters").
        /// </summary>
        internal const long ComparedCharactersPerCell = 16;

        /// <summary>
        /// The glob × exact action table is built up to this many entries (a bool each, so 4 MB); past it, action globs
        /// are matched per request. Reason: memory; the reference policies need a few thousand.
        /// </summary>
        internal const long MaxGlobTableEntries = 4_000_000;

        /// <summary>The matching work of building that table (glob weights × action characters), under a second.</summary>
        internal const long MaxGlobTableWork = 200_000_000;

        /// <summary>"Did you mean" hints of the compiler: for this many undeclared role names (each compares with every role).</summary>
        internal const int MaxSpellingHints = 100;

        /// <summary>
        /// Characters compared by all those hints together, and by one <c>CompiledPolicy.SuggestRole</c> (which
        /// <c>airbac check</c> charges to its own budget, <see cref="Cli.MaxSuggestionCellsPerRun"/>): well under a second.
        /// </summary>
        internal const long MaxSpellingHintCells = 50_000_000;

        /// <summary>
        /// Errors (and, separately, warnings) reported per policy before one more says the rest were dropped: a hostile
        /// policy can hold a problem in each of a million nodes. The YAML loader uses the same number.
        /// </summary>
        internal const int MaxReportedDiagnostics = 1000;
    }

    /// <summary>The decision tables (Authorize's hot path).</summary>
    internal static class Tables
    {
        /// <summary>
        /// <c>NameTable</c>: a hash is kept only if no key landed more than this many slots from home, so a lookup of
        /// any request string probes a short run. CorpusBenchmarks.AiRbacAuthorize and CategoryBenchmarks (scale-10000);
        /// docs/benchmarks.md, "History of the hot-path work", its second pass, "What changed in this pass"; NameTableTests.
        /// </summary>
        internal const int NameTableMaxProbe = 3;

        /// <summary><c>NameTable</c>: and no run of occupied slots is longer than this (same benchmarks and section).</summary>
        internal const int NameTableMaxRun = 24;

        /// <summary>
        /// A rule section with more exact resource names than this finds them by hash instead of comparing them one by
        /// one. CategoryBenchmarks.ExactNameGrant; docs/benchmarks.md, "How the hot path works", item 3.
        /// </summary>
        internal const int ExactNameHashThreshold = 8;

        /// <summary>
        /// A rule whose pattern overlaps several catalog entries keeps their indices when they are at most this many,
        /// so a request tries only those (past it, the whole catalog). Reason: the reference catalog has a few entries
        /// per resource type; not measured separately.
        /// </summary>
        internal const int MaxCatalogCandidates = 8;

        /// <summary>
        /// Patterns and texts up to this length are matched with stack buffers; longer ones rent from the shared pool.
        /// Reason: 1 KiB of stack is safe on any thread; names in the reference corpus are under 100 characters.
        /// </summary>
        internal const int PatternStackLimit = 512;

        /// <summary>The parser's reused token list is dropped after a pattern of more tokens than this (bounded memory per thread).</summary>
        internal const int PatternMaxKeptTokens = 4_096;
    }

    /// <summary>The policy's role-set cache (step 3 of the decision steps).</summary>
    internal static class RoleSets
    {
        /// <summary>
        /// The cap on cached role-set tables, in entries: the reference corpus needs 1,319 at scale-10000, and a hostile
        /// stream of never-seen sets evicts first in, first out. ColdRoleSetBenchmarks.FirstDecision and WarmDecision;
        /// docs/benchmarks.md, "Never-seen (hostile) role sets at scale-10000 (per request)", and
        /// docs/benchmarks.md, "History of the hot-path work" (its second pass, "The cold path and its bound");
        /// RoleSetTableTests.
        /// </summary>
        internal const int MaxTables = 16_384;

        /// <summary>The cap on cached role-set tables, in estimated bytes (same benchmarks and section).</summary>
        internal const long MaxBytes = 64L << 20;

        /// <summary>
        /// The largest run a table keeps is the byte cap divided by this, so that one action cannot take the cache (a
        /// larger run is decided from and dropped). Same section.
        /// </summary>
        internal const int MaxRunFraction = 16;

        /// <summary>
        /// Effective role sets up to this many roles are built on the stack; larger ones rent from the pool.
        /// ColdRoleSetBenchmarks (Size up to every role); docs/benchmarks.md, "How the hot path works", item 1.
        /// </summary>
        internal const int StackRoles = 128;

        /// <summary>
        /// Slots (in pairs) of the array in front of the role-set dictionary: the reference corpus's 1,319 sets at
        /// scale-10000 mostly fit, where 1,024 direct-mapped slots sent about a fifth of its lookups to the dictionary.
        /// CorpusBenchmarks.AiRbacAuthorize; docs/benchmarks.md, "History of the hot-path work" (its second pass,
        /// "What dominates (profiled)" and "What changed in this pass"). A power of two.
        /// </summary>
        internal const int RecentSlots = 4_096;

        /// <summary>
        /// Slots (in pairs, 64 KiB per policy) of the binding memo, from up to three plain bindings to their table.
        /// SubjectPerRequestBenchmarks.BuildAndAuthorize and SubjectReuseBenchmarks; docs/benchmarks.md,
        /// "Core, fourth pass" (the binding memo). A power of two.
        /// </summary>
        internal const int MemoSlots = 8_192;
    }

    /// <summary>
    /// Policy filters (<c>CompiledPolicy.FilterFor</c>, docs/retrieval.md, "Size bound"). Reason: a filter is built per
    /// (subject, action) and handed to a retriever, so it must stay small enough to translate into a query; a real
    /// subject has a few binding scopes and a few dozen patterns, far inside these bounds, while a hostile subject with
    /// thousands of scoped bindings gets an incomplete filter instead of unbounded work;
    /// tests/AiRbac.Core.Tests/BatchAndFilterTests.cs.
    /// </summary>
    internal static class Filter
    {
        /// <summary>Scope branches per filter (binding scopes in effect, of all links, plus one).</summary>
        internal const int MaxBranches = 1_024;

        /// <summary>Clauses per filter: 256 per branch at the branch bound.</summary>
        internal const int MaxClauses = 262_144;

        /// <summary>Bindings read while building one filter (each link's bindings once per branch): 16 Mi.</summary>
        internal const int MaxWork = 16_777_216;

        /// <summary>
        /// Characters of a filter's text kept in an audited retrieval record (<c>RetrievalRecord.FilterText</c>). Reason:
        /// a typical filter (a delegated subject, a few roles and scopes) prints in under 2,000 characters (the example of
        /// docs/retrieval.md: about 900), and one record per query must stay a short line; past it the text says it was cut.
        /// </summary>
        internal const int MaxAuditTextLength = 4_096;
    }

    /// <summary>Store filters (<c>PolicyFilter.ToStoreFilter</c>, docs/retrieval.md, "Parameters").</summary>
    internal static class Store
    {
        /// <summary>
        /// Distinct values (strings, tier lists, clearance lists) a store filter holds as query parameters; past it, every
        /// value is inlined as a constant. Reason: the smallest per-statement limit of the common EF Core providers is
        /// SQL Server's 2,100 parameters (PostgreSQL's protocol allows 65,535); a real subject needs a few dozen, a subject
        /// with hundreds of binding scopes two per scope. tests/AiRbac.Core.Tests/StoreFilterTests.cs (past the bound),
        /// tests/AiRbac.Store.Tests/StoreParameterTests.cs (parameters on PostgreSQL).
        /// </summary>
        internal const int MaxParameters = 2_000;
    }

    /// <summary>Request lines and JSON requests (docs/request-lines.md).</summary>
    internal static class Requests
    {
        /// <summary>
        /// <c>on_behalf_of</c> nesting of a JSON request (docs/policy-language.md, section 10). Reason: a delegation chain
        /// is a few links; the bound keeps a hostile line from exhausting the stack.
        /// </summary>
        internal const int MaxJsonDepth = 32;

        /// <summary>The default longest request or audit line read (1 MiB). Reason: bounded memory per line; real lines are under 1 KiB.</summary>
        internal const int MaxLineLength = 1 << 20;
    }

    /// <summary>
    /// Policy language version 2: context conditions, break-glass roles and approvals (docs/policy-language.md, sections
    /// 11 to 13). Reason: each bound keeps what a request costs in proportion to what a real policy writes (a few keys,
    /// a few conditions per role, a handful of approval rules) while a hostile policy or request is refused with a clear
    /// error or <c>invalid_request</c> instead of costing unbounded work per decision; tests/AiRbac.Core.Tests/ConditionTests.cs.
    /// Not measured: every bound is far above what the examples need.
    /// </summary>
    internal static class Language
    {
        /// <summary>Keys a policy's <c>context</c> section may declare (one bit each in a request's duplicate check).</summary>
        internal const int MaxContextKeys = 64;

        /// <summary>Characters of a declared context key.</summary>
        internal const int MaxContextKeyLength = 64;

        /// <summary>Conditions one role may have (all are evaluated for a request that reaches the role).</summary>
        internal const int MaxConditionsPerRole = 16;

        /// <summary>Values (patterns, integers, time windows) one condition may list (each may be tried per request).</summary>
        internal const int MaxConditionValues = 64;

        /// <summary>Context pairs one request may carry; more is <c>invalid_request</c>.</summary>
        internal const int MaxContextAttributes = 64;

        /// <summary>Characters of a request's context string value; longer is <c>invalid_request</c> (values are glob-matched).</summary>
        internal const int MaxContextValueLength = 4_096;

        /// <summary>The longest <c>max_activation</c> of a break-glass role: an emergency lasts hours, not weeks (7 days).</summary>
        internal const int MaxBreakGlassActivationDays = 7;

        /// <summary>Break-glass activations one request may carry (each is compared with every break-glass role it reaches).</summary>
        internal const int MaxActivations = 8;

        /// <summary>Characters of an activation's justification (it is written to the audit log with every use).</summary>
        internal const int MaxJustificationLength = 1_024;

        /// <summary>Approval rules a policy may declare (each may be matched against an allowed request).</summary>
        internal const int MaxApprovalRules = 1_000;

        /// <summary>Distinct approvers an approval rule may require (two-person and four-eyes rules need 2).</summary>
        internal const int MaxApproversRequired = 10;

        /// <summary>The longest <c>valid_for</c> of an approval rule: 30 days.</summary>
        internal const int MaxApprovalValidityDays = 30;

        /// <summary>
        /// Break-glass uses the access review lists (it counts them all): its memory must not grow with the log, and an
        /// operator reads a list, not a million lines (docs/access-review.md).
        /// </summary>
        internal const int MaxListedBreakGlassUses = 10_000;

        /// <summary>Approvals one request may carry (each is resolved against the policy's bindings; at most 16 bits of a decision).</summary>
        internal const int MaxApprovals = 16;
    }

    /// <summary>
    /// The defaults of <c>YamlLoadLimits</c> (docs/policy-language.md, section 10) and the loader's internal sizes. Reason:
    /// hostile input gets a clear error within seconds, in bounded memory, while the reference policy of 10,011 roles
    /// (3.3 MB of YAML) loads far inside them (CompileBenchmarks.LoadYaml at scale-10000; docs/benchmarks.md,
    /// "Loading and compiling the policy (per policy)"); tests/AiRbac.Yaml.Tests/YamlLoadLimitsTests.cs.
    /// </summary>
    internal static class Yaml
    {
        /// <summary><c>MaxFileBytes</c>: about five times the reference policy of 10,011 roles (3.3 MB).</summary>
        internal const int MaxFileBytes = 16 * 1024 * 1024;

        /// <summary><c>MaxDepth</c>: far deeper than the policy language nests; bounds the parser's recursion.</summary>
        internal const int MaxDepth = 64;

        /// <summary><c>MaxScalarLength</c>: far beyond any name, pattern or description.</summary>
        internal const int MaxScalarLength = 64 * 1024;

        /// <summary><c>MaxNodes</c>: nodes after alias expansion (alias bombs).</summary>
        internal const int MaxNodes = 1_000_000;

        /// <summary><c>MaxExpandedScalarCharacters</c>: four times what any file without aliases can hold (docs/policy-language.md, section 10).</summary>
        internal const long MaxExpandedScalarCharacters = 64L * 1024 * 1024;

        /// <summary>The loader reads a file in chunks of this size (its first buffer; an ordinary I/O size, not measured).</summary>
        internal const int ReadChunkBytes = 64 * 1024;
    }

    /// <summary>
    /// The adapters' caches (linked source in src/Shared: ClaimsSubjectMapper for ASP.NET Core and MCP, ToolResourceNames
    /// for MCP and Microsoft.Extensions.AI). AspNetCorePathBenchmarks.AiRbacHandler, McpToolCallBenchmarks.AiRbacFilter and
    /// ChatToolCallBenchmarks.AiRbacInvoker; docs/benchmarks.md, "Adapters, third pass"; ClaimsMappingTests.
    /// </summary>
    internal static class Adapters
    {
        /// <summary>Mapped subjects kept by id, kind and role names: slots of a two-way array (fixed memory).</summary>
        internal const int SubjectSlots = 8_192;

        /// <summary>Only subjects with at most this many role names are kept.</summary>
        internal const int SubjectMaxRoles = 16;

        /// <summary>Only ids and role names of at most this many characters are kept.</summary>
        internal const int SubjectMaxNameLength = 256;

        /// <summary>
        /// Up to this many role claims, a repeat is found by scanning; past it, by a set (thousands of role claims cost
        /// linear time, not quadratic). docs/benchmarks.md, "History of the hot-path work" (its second pass, "What
        /// changed in this pass").
        /// </summary>
        internal const int SmallRoleCount = 16;

        /// <summary>Per-thread role-name buffers longer than this are not kept.</summary>
        internal const int ScratchMaxKept = 256;

        /// <summary>Exact-size arrays of 1 to this many role names are kept per thread (one per size), for subjects built from claims.</summary>
        internal const int ScratchMaxExact = 16;

        /// <summary>Tool resource names (<c>tool:NAME</c>) kept, at most about this many.</summary>
        internal const int ToolNameEntries = 1_024;

        /// <summary>Tool names of at most this many characters are kept; others are concatenated per call.</summary>
        internal const int ToolNameMaxLength = 128;

        /// <summary>
        /// The most results one permission-aware vector search (<c>AiRbacRetriever.SearchAsync</c>) asks for. Reason: a
        /// prompt holds tens of chunks, not thousands, and the post-filter decides every candidate in one batch whose
        /// arrays are this long at most, whatever the store returns.
        /// </summary>
        internal const int MaxRetrievalTop = 10_000;

        /// <summary>
        /// The most actors a principal's delegation may name (a <c>ClaimsIdentity.Actor</c> chain, or the nested RFC 8693
        /// <c>act</c> claims of a token); a longer chain maps to the anonymous subject (denied). Reason: real chains are
        /// an agent or two deep; the bound stops a cyclic <c>Actor</c> graph and a hostile nesting
        /// (docs/integrations.md, "Claims mapping (ASP.NET Core and MCP)").
        /// </summary>
        internal const int MaxActors = 8;

        /// <summary>
        /// The longest <c>act</c> claim value read, in characters; a longer one maps to the anonymous subject. Reason:
        /// eight nested actors with ids and a few roles each fit in well under 1 KiB; the bound caps the parse.
        /// </summary>
        internal const int MaxActClaimLength = 8_192;

        /// <summary>
        /// Host-attested tool-call approvals remembered as spent, per authorizer (docs/integrations.md, "Tool-call
        /// approvals"): an approval that let a call run is not counted for it again. Reason: each entry stands for a call
        /// a human approved, so an attacker cannot flush the record without that many real approvals; 10,000 entries of
        /// about 200 bytes are 2 MB. ToolApprovalAttackTests.ApprovedCall_ReplayedByRepostingTheApprovalWithoutItsResult_RunsOnce.
        /// </summary>
        internal const int SpentApprovals = 10_000;
    }

    /// <summary>
    /// The JSON Lines audit sink and the policy reloader (AiRbac.DependencyInjection). AuditSinkBenchmarks.WriteDistinct;
    /// docs/benchmarks.md, "Audit sink: records written per second"; docs/audit-log.md.
    /// </summary>
    internal static class Hosting
    {
        /// <summary>The writer formats records into a buffer of this size and writes it with one call (docs/audit-log.md, the writer).</summary>
        internal const int AuditBufferBytes = 256 * 1024;

        /// <summary>The idle writer's wait; also bounds the delay of a wake-up lost to a race, and of a marker retry.</summary>
        internal const int AuditIdleWaitMilliseconds = 100;

        /// <summary>A producer blocked on a full ring waits at most this long before it looks again (a wake-up lost to a race costs at most this).</summary>
        internal const int AuditBlockedWaitMilliseconds = 10;

        /// <summary>The largest <c>AuditLogOptions.Capacity</c> accepted (records in the ring); bounds the sink's memory.</summary>
        internal const int AuditMaxCapacity = 1 << 24;

        /// <summary>The largest <c>AuditLogOptions.MaxTags</c> accepted (tags kept per record).</summary>
        internal const int AuditMaxTags = 1024;

        /// <summary>Buffer space reserved for a <c>records_lost</c> marker line, in bytes (an upper bound of its length).</summary>
        internal const int AuditMarkerBytes = 256;

        /// <summary>Successive reads of a watched file that may differ before a reload is reported as failed (the file kept changing).</summary>
        internal const int ReloadMaxUnstableReads = 5;

        /// <summary>Symbolic links followed when choosing the directories to watch (the kernel's own limit).</summary>
        internal const int ReloadMaxLinkHops = 40;
    }

    /// <summary>The <c>airbac</c> tool.</summary>
    internal static class Cli
    {
        /// <summary>"Did you mean" answers remembered per run of <c>airbac check</c> (a stream of requests repeats its typos).</summary>
        internal const int MaxRememberedSuggestions = 4096;

        /// <summary>
        /// The characters all "did you mean" searches of one <c>airbac check</c> run may compare together (each search is
        /// capped by <see cref="Compile.MaxSpellingHintCells"/>): a few seconds at most, whatever the request stream;
        /// tests/AiRbac.Cli.Tests/UndeclaredRolesBoundTests.cs.
        /// </summary>
        internal const long MaxSuggestionCellsPerRun = 200_000_000;

        /// <summary>The largest gateway config <c>airbac import keeptrusts</c> reads (4 MiB); real ones are a few KiB.</summary>
        internal const int ImportMaxInputBytes = 4 << 20;

        /// <summary>The most list items and mapping entries the importer reads.</summary>
        internal const int ImportMaxItems = 100_000;

        /// <summary>
        /// The most cases one <c>airbac test</c> file may hold (docs/policy-testing.md). A hand-written suite has tens to
        /// a few thousand (the demo policy's covers 43 rules and constraints with 51); more belong in several files. Past
        /// it the file is refused (status 2): the YAML node limit alone would let about 75,000 aliased cases through.
        /// </summary>
        internal const int MaxTestCases = 10_000;

        /// <summary>The most test files one <c>airbac test</c> run reads (all its globs together); past it the run stops, status 2.</summary>
        internal const int MaxTestFiles = 10_000;

        /// <summary>
        /// The longest condition <c>airbac filter --format sql|expression</c> prints (8 Mi characters); past it, it prints
        /// nothing and exits 2, since a cut condition must never be run. Reason: text repeats the subtrees a store filter
        /// shares (the catalog's checks, once per role), so a hostile policy could ask for gigabytes; the store tests'
        /// filters print a few KiB. tests/AiRbac.Cli.Tests/FilterFormatTests.cs.
        /// </summary>
        internal const int MaxFilterOutputCharacters = 8 << 20;

        /// <summary>
        /// <c>airbac diff --audit</c>: examples printed per old → new reason. Reason: the output stays bounded whatever
        /// the size of the log; the counts say how many there are.
        /// </summary>
        internal const int ReplayExamplesPerChange = 3;

        /// <summary><c>airbac diff --audit</c>: subjects named per old → new reason (the most affected first); the rest are counted.</summary>
        internal const int ReplaySubjectsShown = 10;

        /// <summary>
        /// <c>airbac diff --audit</c>: distinct subjects counted per old → new reason and in all (each a clipped id of at
        /// most a few hundred characters, so a few MB). Reason: memory stays bounded on a log of millions of subjects;
        /// past it the report says "at least".
        /// </summary>
        internal const int ReplaySubjectsTracked = 10_000;

        /// <summary><c>airbac diff --audit</c>: bad lines and OLD mismatches quoted (the rest are counted).</summary>
        internal const int ReplayProblemsShown = 3;

        /// <summary><c>airbac diff --audit</c>: on-behalf-of links named in a subject's key ("bot for alice"); the rest are counted.</summary>
        internal const int ReplayLinksShown = 3;
    }
}
