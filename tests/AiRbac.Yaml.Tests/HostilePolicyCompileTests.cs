using AiRbac.Diagnostics;

namespace AiRbac.Yaml.Tests;

/// <summary>
/// Small but hostile policies, loaded and compiled the way the host and <c>airbac lint</c> do: each either compiles or
/// is refused with a <c>limit_exceeded</c> diagnostic naming the limit, never throws, and allocates a bounded amount.
/// No timings are asserted (machines are noisy); the outcome and the allocation bound are deterministic.
/// </summary>
public sealed class HostilePolicyCompileTests
{
    private const long OneGiB = 1L << 30;

    private static PolicyCompilation Compile(string yaml, PolicyCompilerOptions? options = null)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = YamlPolicy.Compile(yaml, LoadAssertions.Source, options);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().BeLessThan(OneGiB);
        return result;
    }

    private static void ShouldBeRefusedBy(PolicyCompilation result, string limitName)
    {
        result.Succeeded.Should().BeFalse();
        result.Policy.Should().BeNull();
        result.Diagnostics.Should().Contain(d => d.IsError && d.Code == DiagnosticCodes.LimitExceeded && d.Message.Contains(limitName),
            because: "the diagnostics were: {0}", string.Join(" | ", result.Diagnostics.Take(5)));
    }

    [Fact]
    public void Compile_47000GlobActionsAnd47000ExactActions_CompilesWithoutTheGlobTable()
    {
        // Before: new bool[globs * actions] overflowed int and threw OverflowException.
        var result = Compile(HostilePolicies.GlobActions(47_000));

        result.Succeeded.Should().BeTrue(because: string.Join(" | ", result.Diagnostics.Take(5)));
        var subject = new Subject("s", roles: [new RoleBinding("r")]);
        result.Policy!.Authorize(subject, "g46999:v", "x:y").Allowed.Should().BeTrue();
        result.Policy.Authorize(subject, "g46999:other", "x:y").Allowed.Should().BeTrue();
        result.Policy.Authorize(subject, "h:v", "x:y").Allowed.Should().BeFalse();
    }

    [Fact]
    public void Compile_600000OneLineRules_IsRefusedByMaxRules()
    {
        // Before: a million one-line rules (within 16 MiB) peaked near 1 GiB while compiling.
        var result = Compile(HostilePolicies.ManyRules(600_000));

        ShouldBeRefusedBy(result, "more than 500000 rules (allow and deny entries; MaxRules), reached at role 'r500'");
        result.Diagnostics.Single(d => d.Message.Contains("; MaxRules)")).Location.Line.Should().BeGreaterThan(500_000);
    }

    [Theory]
    [InlineData(2_000, true)]
    [InlineData(2_001, false)]
    public void Compile_RulesAtTheLimit_CompileAndOneMoreIsRefused(int rules, bool compiles)
    {
        var result = Compile(HostilePolicies.ManyRules(rules), new PolicyCompilerOptions { MaxRules = 2_000 });

        result.Succeeded.Should().Be(compiles, string.Join(" | ", result.Diagnostics.Take(3)));
        if (!compiles)
        {
            ShouldBeRefusedBy(result, "; MaxRules)");
        }
    }

    [Fact]
    public void Compile_10000GlobActions_Compiles()
        => Compile(HostilePolicies.GlobActions(10_000)).Succeeded.Should().BeTrue();

    [Fact]
    public void Compile_10000AllowDenyPairsInOneRole_IsRefusedByMaxPatternPairs()
    {
        var result = Compile(HostilePolicies.AllowDenyPairs(10_000));

        ShouldBeRefusedBy(result, "(MaxPatternPairs)");
        result.Diagnostics.Should().ContainSingle().Which.Message.Should().Contain("100000000 grant x deny pairs within roles");
    }

    [Fact]
    public void Compile_AllowDenyPairsUnderTheLimit_Compiles()
        => Compile(HostilePolicies.AllowDenyPairs(1_000)).Succeeded.Should().BeTrue();

    [Fact]
    public void Compile_10000CatalogEntriesAnd10000Rules_IsRefusedByMaxPatternPairs()
        => ShouldBeRefusedBy(Compile(HostilePolicies.Catalog(10_000)), "10000 rules x 10000 catalog entries");

    [Fact]
    public void Compile_ManyTypesAndUntypedCatalogEntries_IsRefusedByMaxPatternPairs()
        => ShouldBeRefusedBy(Compile(HostilePolicies.CatalogTypes(5_000, 5_000)), "5000 resource types x 5000 untyped entries");

    [Fact]
    public void Compile_InheritanceChainOf30000Roles_IsRefusedByMaxInheritanceDepth()
    {
        var result = Compile(HostilePolicies.Chain(30_000));

        ShouldBeRefusedBy(result, "(MaxInheritanceDepth)");
        var error = result.Diagnostics.Should().ContainSingle().Which;
        error.Message.Should().Be("role 'r33' is 33 inheritance steps below its furthest ancestor; at most 32 (MaxInheritanceDepth) are supported");
        (error.Location.Line, error.Location.Column).Should().Be((36, 3));
    }

    [Fact]
    public void Compile_InheritanceChainAtTheDepthLimit_CompilesWithEveryAncestor()
    {
        var result = Compile(HostilePolicies.Chain(33));

        result.Succeeded.Should().BeTrue();
        result.Policy!.FindRole("r32")!.Ancestors.Should().HaveCount(32).And.StartWith("r0");
    }

    [Fact]
    public void Compile_WideInheritance_IsRefusedByMaxInheritedRoles()
    {
        // 30 layers of 100 roles, each inheriting the whole layer before: 100 × 100 × 29 × 30 / 2 ancestors.
        // With the default MaxInheritanceSteps that limit is reached first (each role takes 100 parents' ancestors).
        ShouldBeRefusedBy(Compile(HostilePolicies.Wide(100, 30)), "(MaxInheritanceSteps;");
        var result = Compile(HostilePolicies.Wide(100, 30), new PolicyCompilerOptions { MaxInheritanceSteps = 200_000_000 });

        ShouldBeRefusedBy(result, "(MaxInheritedRoles;");
    }

    [Fact]
    public void Compile_WideInheritanceUnderTheLimits_Compiles()
        => Compile(HostilePolicies.Wide(20, 20)).Succeeded.Should().BeTrue();

    [Fact]
    public void Compile_ManySubjectsOnADeepRole_IsRefusedByMaxRoleChecks()
    {
        var options = new PolicyCompilerOptions { MaxRoleChecks = 1_000_000 };

        ShouldBeRefusedBy(Compile(HostilePolicies.SubjectsOnChain(30, 50_000), options), "(MaxRoleChecks;");
        Compile(HostilePolicies.SubjectsOnChain(30, 30_000), options).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void Compile_ManySubjectsAndManyExclusiveSets_IsRefusedByMaxRoleChecks()
        => ShouldBeRefusedBy(Compile(HostilePolicies.ExclusiveSets(50_000, 50_000)), "(MaxRoleChecks;");

    [Fact]
    public void Compile_ExclusiveSetsAndSubjectsUnderTheLimit_CompileWithTheirWarnings()
    {
        var result = Compile(HostilePolicies.ExclusiveSets(3, 2));

        result.Succeeded.Should().BeTrue();
        result.Diagnostics.Should().BeEmpty();
    }

    [Fact]
    public void Compile_GroupNamedByManySubjects_IsRefusedByMaxExpandedBindings()
    {
        var result = Compile(HostilePolicies.GroupFanOut(1_000, 100_000));

        ShouldBeRefusedBy(result, "(MaxExpandedBindings)");
        result.Diagnostics.Should().ContainSingle().Which.Message.Should().EndWith("reached at subject 's1000'");
    }

    [Fact]
    public void Compile_OneRoleInheritingTheSameRole300000Times_Compiles()
        => Compile(HostilePolicies.ManyInherits(300_000)).Succeeded.Should().BeTrue();

    [Fact]
    public void Compile_CyclesAtEveryDepth_ReportsEachWithAShortPath()
    {
        var result = Compile(HostilePolicies.DeepCycles(900));

        result.Succeeded.Should().BeFalse();
        result.Diagnostics.Should().HaveCount(899).And.OnlyContain(d => d.Code == DiagnosticCodes.InheritanceCycle);
        result.Diagnostics.Max(d => d.Message.Length).Should().BeLessThan(200);
        result.Diagnostics.Should().Contain(d => d.Message == "inheritance cycle: r0 -> r1 -> r2 -> r3 -> r4 -> r5 -> ... (888 more roles) -> r894 -> r895 -> r896 -> r897 -> r898 -> r899 -> r0");

        // Past 1,000 errors, one final limit_exceeded says the rest were dropped.
        var many = Compile(HostilePolicies.DeepCycles(5_000));

        many.Diagnostics.Should().HaveCount(1_001);
        many.Diagnostics.Count(d => d.Code == DiagnosticCodes.InheritanceCycle).Should().Be(1_000);
        many.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.LimitExceeded)
            .Which.Message.Should().Be("more than 1000 errors; the rest are not reported");
        many.Diagnostics.Max(d => d.Message.Length).Should().BeLessThan(200);
    }

    [Fact]
    public void Compile_ManyUndeclaredRoles_ReportsEachAndHintsTheFirstHundred()
    {
        var result = Compile(HostilePolicies.UndeclaredReferences(2_000));

        result.Diagnostics.Should().HaveCount(1_001);
        result.Diagnostics.Count(d => d.Code == DiagnosticCodes.UndeclaredRole).Should().Be(1_000);
        result.Diagnostics[^1].Code.Should().Be(DiagnosticCodes.LimitExceeded);
        result.Diagnostics.Count(d => d.Message.Contains("did you mean", StringComparison.Ordinal)).Should().Be(100);
    }

    [Fact]
    public void Compile_ManyUndeclaredRolesAmongManyRoles_HintsWithinTheComparisonBudget()
    {
        // Each hint compares 11 × 11 cells with each of 20,000 roles: 20 hints fit in 50,000,000 cells.
        var result = Compile(HostilePolicies.UndeclaredReferences(20_000));

        result.Diagnostics.Should().HaveCount(1_001);
        result.Diagnostics.Count(d => d.Code == DiagnosticCodes.UndeclaredRole).Should().Be(1_000);
        result.Diagnostics.Count(d => d.Message.Contains("did you mean", StringComparison.Ordinal)).Should().Be(20);
    }

    [Fact]
    public void Compile_ManyNotByOwnerGlobsAndActions_Compiles()
    {
        var result = Compile(HostilePolicies.NotByOwner(20_000));

        result.Succeeded.Should().BeTrue();
        var subject = new Subject("s", roles: [new RoleBinding("r")]);
        result.Policy!.Authorize(subject, "g1:v", new ResourceRequest("x:y") { Owner = "s" }).Allowed.Should().BeTrue();
    }

    [Fact]
    public void Compile_LongGlobDeniesOverLongExactGrants_IsRefusedByMaxPatternMatchCells()
    {
        // 300 × 300 pairs, under MaxPatternPairs, but each runs a 900-token glob over an 1,800-character name.
        var result = Compile(HostilePolicies.LongAllowDeny(300, 1_780));

        ShouldBeRefusedBy(result, "(MaxPatternMatchCells;");
        result.Diagnostics.Should().ContainSingle();
    }

    [Fact]
    public void Compile_LongCatalogGlobsAndLongExactGrants_IsRefusedByMaxPatternMatchCells()
    {
        ShouldBeRefusedBy(Compile(HostilePolicies.LongCatalog(300, 1_780)), "(MaxPatternMatchCells;");
        ShouldBeRefusedBy(Compile(HostilePolicies.LongCatalogReversed(300, 1_780)), "(MaxPatternMatchCells;");
    }

    [Fact]
    public void Compile_LongGlobsAndExactNamesUnderTheLimit_CompileAndMatch()
    {
        var result = Compile(HostilePolicies.LongCatalog(3, 1_780));

        result.Succeeded.Should().BeTrue(because: string.Join(" | ", result.Diagnostics.Take(5)));
        var subject = new Subject("s", roles: [new RoleBinding("r")]);
        result.Policy!.Authorize(subject, "a:v", "x:" + new string('a', 1_780) + "2").Allowed.Should().BeTrue();
    }

    [Fact]
    public void Compile_ManyStarryGlobGrantsAgainstManyStarryCatalogGlobs_CompilesWithTheRightDecisions()
    {
        // 4,470 x 4,470 glob pairs of about 890 tokens each (16 MiB): before, each overlap check walked every token of
        // both patterns (165 s, 1.5 GiB allocated); the slash counts are now kept per pattern.
        var result = Compile(HostilePolicies.StarryCatalog(4_470, 1_780));

        result.Succeeded.Should().BeTrue(because: string.Join(" | ", result.Diagnostics.Take(5)));
        var subject = new Subject("s", roles: [new RoleBinding("r")]);
        string stars = new('a', 890);
        result.Policy!.Authorize(subject, "a:v", "x:z4469" + stars).Allowed.Should().BeTrue();
        result.Policy.Authorize(subject, "a:v", "x:z7" + stars).Allowed.Should().BeTrue();
        result.Policy.Authorize(subject, "a:v", "x:z7" + stars + "q7").Allowed.Should().BeFalse();
        result.Policy.Authorize(subject, "a:v", "x:z7/" + stars).Allowed.Should().BeFalse();
        result.Policy.Authorize(subject, "b:v", "x:z7" + stars).Allowed.Should().BeFalse();
    }

    [Fact]
    public void Compile_ManyLongSharedPrefixes_IsRefusedByMaxPatternMatchCells()
    {
        // 4,470 x 4,470 pairs whose 1,780-character literal prefixes differ only at their end (16 MiB): each prefix
        // comparison reads them all, so the comparisons are counted up front by the shorter prefix.
        var result = Compile(HostilePolicies.SharedPrefixCatalog(4_470, 1_780));

        ShouldBeRefusedBy(result, "(MaxPatternMatchCells;");
        result.Diagnostics.Should().ContainSingle().Which.Message.Should().Contain("characters of the shorter literal prefix");
    }

    [Fact]
    public void Compile_LongSharedPrefixesUnderTheLimit_CompileWithTheRightDecisions()
    {
        var result = Compile(HostilePolicies.SharedPrefixCatalog(1_000, 1_780));

        result.Succeeded.Should().BeTrue(because: string.Join(" | ", result.Diagnostics.Take(5)));
        var subject = new Subject("s", roles: [new RoleBinding("r")]);
        string prefix = "x:" + new string('a', 1_780);
        result.Policy!.Authorize(subject, "a:v", prefix + "999b").Allowed.Should().BeTrue();
        result.Policy.Authorize(subject, "a:v", prefix + "7/b").Allowed.Should().BeFalse();
        result.Policy.Authorize(subject, "a:v", prefix + "q7b").Allowed.Should().BeFalse();
    }

    [Fact]
    public void Compile_LongActionGlobsAndLongActions_CompilesWithTheSameDecisions()
    {
        // The glob table weighs each glob by its length, not its 3 tokens: this one is matched per request instead.
        foreach (bool notByOwner in new[] { false, true })
        {
            var result = Compile(HostilePolicies.LongGlobTable(40, 40, 30_000, notByOwner));

            result.Succeeded.Should().BeTrue(because: string.Join(" | ", result.Diagnostics.Take(5)));
            var subject = new Subject("s", roles: [new RoleBinding("r")]);
            string action = "g" + new string('a', 30_000) + "7";
            result.Policy!.Authorize(subject, action, "x:y").Allowed.Should().BeTrue();
            string globbed = "g" + new string('a', 20_000) + "b7";
            result.Policy.Authorize(subject, globbed, new ResourceRequest("x:y") { Owner = "s" }).Allowed.Should().Be(!notByOwner);
        }
    }

    [Fact]
    public void Compile_OverlappingInheritanceLayers_IsRefusedByMaxInheritanceSteps()
    {
        // 3 layers of 471 roles: 665,000 inherited roles, under MaxInheritedRoles, but 105,000,000 steps to compute them.
        var result = Compile(HostilePolicies.OverlappingLayers(471));

        ShouldBeRefusedBy(result, "(MaxInheritanceSteps;");
        result.Diagnostics.Should().ContainSingle();
    }

    [Fact]
    public void Compile_OverlappingInheritanceUnderTheLimit_CompilesWithEveryAncestor()
    {
        var result = Compile(HostilePolicies.OverlappingLayers(100));

        result.Succeeded.Should().BeTrue();
        result.Policy!.FindRole("l2w0")!.Ancestors.Should().HaveCount(200);
    }

    [Fact]
    public void Compile_ManyResourceTypes_IndexesTheCatalogInLinearTime()
    {
        // Before: every type's list was gathered by a pass over the whole catalog (types × entries).
        var result = Compile(HostilePolicies.CatalogTypes(50_000, 0));

        result.Succeeded.Should().BeTrue();
    }

    [Fact]
    public void Compile_ManyTiersNamedManyTimes_CompilesAndAnUnknownTierListsTenTiers()
    {
        Compile(HostilePolicies.ManyTiers(20_000, 20_000)).Succeeded.Should().BeTrue();

        var result = Compile(HostilePolicies.ManyTiers(20_000, 900, undeclared: true));

        result.Diagnostics.Should().HaveCount(900).And.OnlyContain(d => d.Code == DiagnosticCodes.UnknownTier);
        result.Diagnostics[0].Message.Should().EndWith("(tiers: t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, ... (19990 more))");
    }

    [Fact]
    public void Compile_ManyTiersAndClusteredCatalogNames_CompilesAndFindsRequestTiersByName()
    {
        // Catalog names x:0 ... x:29999 cluster in NameTable's cheap hash (same length and ends): before, filling the table
        // was quadratic (100,000 tiers and 100,000 entries took 21.8 s). The request's tier is looked up by hash too.
        var result = Compile(HostilePolicies.ManyTiers(30_000, 30_000));

        result.Succeeded.Should().BeTrue(because: string.Join(" | ", result.Diagnostics.Take(5)));
        var policy = result.Policy!;
        var subject = new Subject("s", roles: [new RoleBinding("r")]);
        policy.Authorize(subject, "a:v", "x:y").Allowed.Should().BeTrue();
        policy.Authorize(subject, "a:v", new ResourceRequest("x:y") { Sensitivity = "t0" }).Allowed.Should().BeTrue();
        policy.Authorize(subject, "a:v", new ResourceRequest("x:y") { Sensitivity = "t29999" }).Reason.Should().Be(DecisionReason.SensitivityCeiling);
        policy.Authorize(subject, "a:v", new ResourceRequest("x:y") { Sensitivity = "t30000" }).Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void Compile_ManyDuplicateIdsOfALongName_KeepsAThousandShortErrorsAndIsRefused()
    {
        // Before: 240,000 errors each quoting the 1,000-character name, 1,292 MiB allocated.
        var result = Compile(HostilePolicies.DuplicateIds(100_000, 1_000));

        result.Succeeded.Should().BeFalse();
        result.Policy.Should().BeNull();
        result.Diagnostics.Should().HaveCount(1_001).And.OnlyContain(d => d.IsError);
        result.Diagnostics.Take(1_000).Should().OnlyContain(d => d.Code == DiagnosticCodes.DuplicateRole && d.Message.Length < 400);
        result.Diagnostics[0].Message.Should().Contain("'" + new string('n', 100) + "…(900 more characters)'");
        result.Diagnostics[^1].Code.Should().Be(DiagnosticCodes.LimitExceeded);
        result.Diagnostics[^1].Message.Should().Be("more than 1000 errors; the rest are not reported");
    }

    [Fact]
    public void Compile_ManyUnknownTiersAmongLongTierNames_KeepsAThousandShortErrors()
    {
        // Before: each error listed ten 60,000-character tier names (tens of gigabytes for 190,000 entries).
        var result = Compile(HostilePolicies.LongTiersUndeclared(10, 60_000, 20_000));

        result.Succeeded.Should().BeFalse();
        result.Diagnostics.Should().HaveCount(1_001);
        result.Diagnostics.Take(1_000).Should().OnlyContain(d => d.Code == DiagnosticCodes.UnknownTier && d.Message.Length < 2_000);
        result.Diagnostics[^1].Code.Should().Be(DiagnosticCodes.LimitExceeded);
    }

    [Fact]
    public void Compile_LongRoleNameInheritingManyTimes_Compiles()
    {
        // Before: the message prefix (quoting the 60,000-character name) was built per inherits entry: 114 GB allocated.
        var result = Compile(HostilePolicies.LongNameInherits(200_000, 60_000));

        result.Succeeded.Should().BeTrue(because: string.Join(" | ", result.Diagnostics.Take(5)));
    }

    [Fact]
    public void Compile_LongGroupNameBindingManyTimes_Compiles()
    {
        // Before: the message prefix (quoting the 60,000-character group name) was built per binding.
        var result = Compile(HostilePolicies.LongNameGroup(200_000, 60_000));

        result.Succeeded.Should().BeTrue(because: string.Join(" | ", result.Diagnostics.Take(5)));
    }

    [Fact]
    public void Compile_ManyWarningsQuotingALongName_KeepsAThousandShortWarnings()
    {
        // Before: one grants_everything warning per rule, each quoting the 60,000-character role name.
        var result = Compile(HostilePolicies.LongNameWarnings(50_000, 60_000));

        result.Succeeded.Should().BeTrue();
        result.Diagnostics.Should().HaveCount(1_001).And.OnlyContain(d => !d.IsError);
        result.Diagnostics.Take(1_000).Should().OnlyContain(d => d.Code == DiagnosticCodes.GrantsEverything && d.Message.Length < 400);
        result.Diagnostics[^1].Code.Should().Be(DiagnosticCodes.LimitExceeded);
        result.Diagnostics[^1].Message.Should().Be("more than 1000 warnings; the rest are not reported");
    }

    [Fact]
    public void Compile_AliasesOfALongRule_AreRefusedByTheLoader()
    {
        // Before: 900,000 aliases of one 60,000-character rule ran for minutes (the compiler read every use).
        var result = Compile(HostilePolicies.AliasedLongRules(900_000, 60_000));

        result.Succeeded.Should().BeFalse();
        result.Diagnostics.Should().ContainSingle().Which.Message.Should().Contain("MaxExpandedScalarCharacters");
    }

    [Fact]
    public void Options_NonPositiveLimit_Throws()
    {
        FluentActions.Invoking(() => new PolicyCompilerOptions { MaxInheritanceDepth = 0 }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PolicyCompilerOptions { MaxInheritedRoles = 0 }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PolicyCompilerOptions { MaxExpandedBindings = -1 }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PolicyCompilerOptions { MaxRoleChecks = 0 }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PolicyCompilerOptions { MaxPatternPairs = 0 }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PolicyCompilerOptions { MaxInheritanceSteps = 0 }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PolicyCompilerOptions { MaxPatternMatchCells = -1 }).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Defaults_AreTheDocumentedLimits()
    {
        var options = new PolicyCompilerOptions();

        (options.MaxInheritanceDepth, options.MaxInheritedRoles, options.MaxExpandedBindings, options.MaxRoleChecks, options.MaxPatternPairs)
            .Should().Be((32, 1_000_000, 1_000_000, 20_000_000L, 20_000_000L));
        (options.MaxInheritanceSteps, options.MaxPatternMatchCells).Should().Be((20_000_000L, 200_000_000L));
    }

    [Fact]
    public void Compile_OneSubjectWithBindingsInManyScopes_IsRefusedByMaxRoleChecks_NotLintedQuadratically()
    {
        // Lint checks a subject's roles in every scope its bindings name: 5,000 scoped bindings would be 5,001 sets of 5,000.
        ShouldBeRefusedBy(Compile(ManyBindings(5_000, scoped: true)), "(MaxRoleChecks;");

        // The operator's policy, the same bindings without scopes (one set to check), compiles.
        Compile(ManyBindings(5_000, scoped: false)).Succeeded.Should().BeTrue();
    }

    private static string ManyBindings(int count, bool scoped)
    {
        var yaml = new System.Text.StringBuilder("version: 1\nroles:\n  r: { allow: [ \"a:b on c:d\" ] }\nbindings:\n  subjects:\n    s:\n      roles:\n");
        for (int i = 0; i < count; i++)
        {
            yaml.Append(scoped ? $"        - {{ role: r, scope: t/s{i} }}\n" : "        - r\n");
        }

        return yaml.ToString();
    }
}
