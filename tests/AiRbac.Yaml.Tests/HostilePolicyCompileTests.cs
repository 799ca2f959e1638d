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

    private static YamlCompilation Compile(string yaml, PolicyCompilerOptions? options = null)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = YamlPolicy.Compile(yaml, LoadAssertions.Source, options);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().BeLessThan(OneGiB);
        return result;
    }

    private static void ShouldBeRefusedBy(YamlCompilation result, string limitName)
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
        var result = Compile(HostilePolicies.Wide(100, 30));

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
        var result = Compile(HostilePolicies.DeepCycles(5_000));

        result.Succeeded.Should().BeFalse();
        result.Diagnostics.Should().HaveCount(4_999).And.OnlyContain(d => d.Code == DiagnosticCodes.InheritanceCycle);
        result.Diagnostics.Max(d => d.Message.Length).Should().BeLessThan(200);
        result.Diagnostics.Should().Contain(d => d.Message == "inheritance cycle: r0 -> r1 -> r2 -> r3 -> r4 -> r5 -> ... (4988 more roles) -> r4994 -> r4995 -> r4996 -> r4997 -> r4998 -> r4999 -> r0");
    }

    [Fact]
    public void Compile_ManyUndeclaredRoles_ReportsEachAndHintsTheFirstHundred()
    {
        var result = Compile(HostilePolicies.UndeclaredReferences(2_000));

        result.Diagnostics.Should().HaveCount(2_000).And.OnlyContain(d => d.Code == DiagnosticCodes.UndeclaredRole);
        result.Diagnostics.Count(d => d.Message.Contains("did you mean", StringComparison.Ordinal)).Should().Be(100);
    }

    [Fact]
    public void Compile_ManyUndeclaredRolesAmongManyRoles_HintsWithinTheComparisonBudget()
    {
        // Each hint compares 11 × 11 cells with each of 20,000 roles: 20 hints fit in 50,000,000 cells.
        var result = Compile(HostilePolicies.UndeclaredReferences(20_000));

        result.Diagnostics.Should().HaveCount(20_000).And.OnlyContain(d => d.Code == DiagnosticCodes.UndeclaredRole);
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
    public void Options_NonPositiveLimit_Throws()
    {
        FluentActions.Invoking(() => new PolicyCompilerOptions { MaxInheritanceDepth = 0 }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PolicyCompilerOptions { MaxInheritedRoles = 0 }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PolicyCompilerOptions { MaxExpandedBindings = -1 }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PolicyCompilerOptions { MaxRoleChecks = 0 }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PolicyCompilerOptions { MaxPatternPairs = 0 }).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Defaults_AreTheDocumentedLimits()
    {
        var options = new PolicyCompilerOptions();

        (options.MaxInheritanceDepth, options.MaxInheritedRoles, options.MaxExpandedBindings, options.MaxRoleChecks, options.MaxPatternPairs)
            .Should().Be((32, 1_000_000, 1_000_000, 20_000_000L, 20_000_000L));
    }
}
