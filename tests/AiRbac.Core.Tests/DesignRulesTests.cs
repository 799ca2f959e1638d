using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace AiRbac.Core.Tests;

/// <summary>
/// The rules of docs/design.md the build can check: each project of src/ references only the rings inside its own ("Rings"),
/// and tuning values live in src/Shared/Tuning.cs ("Bounded inputs and caches").
/// </summary>
public partial class DesignRulesTests
{
    // What each project may reference (docs/design.md, "Rings"); a project not listed here fails the test until it is placed.
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["AiRbac.Core"] = [],
        ["AiRbac.Yaml"] = ["AiRbac.Core"],
        ["AiRbac.DependencyInjection"] = ["AiRbac.Core", "AiRbac.Yaml"],
        ["AiRbac.Review"] = ["AiRbac.Core", "AiRbac.Yaml"],
        ["AiRbac.AspNetCore"] = ["AiRbac.Core"],
        ["AiRbac.Extensions.AI"] = ["AiRbac.Core"],
        ["AiRbac.ModelContextProtocol"] = ["AiRbac.Core"],
        ["AiRbac.Agents.AI"] = ["AiRbac.Core", "AiRbac.Extensions.AI"],
        ["AiRbac.SemanticKernel"] = ["AiRbac.Core", "AiRbac.Extensions.AI"],
        ["AiRbac.Cli"] = ["AiRbac.Core", "AiRbac.Yaml", "AiRbac.Review"],
    };

    [Fact]
    public void ProjectReferences_StayInsideTheirRing_AndTheCoreTakesNoPackages()
    {
        string src = Path.Combine(RepositoryRoot.Path, "src");
        var projects = Directory.EnumerateFiles(src, "*.csproj", SearchOption.AllDirectories).ToList();
        projects.Should().HaveCount(Allowed.Count, "every project of src/ is placed in a ring");

        foreach (string project in projects)
        {
            string name = Path.GetFileNameWithoutExtension(project);
            Allowed.Should().ContainKey(name);
            var document = XDocument.Load(project);
            var references = document.Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))
                .ToList();
            references.Should().BeSubsetOf(Allowed[name], $"{name} may reference only the rings inside its own");
            if (name == "AiRbac.Core")
            {
                // Build-time analyzers only (PrivateAssets="all"): the core ships with the BCL alone.
                document.Descendants("PackageReference").Should().OnlyContain(p => (string?)p.Attribute("PrivateAssets") == "all");
            }
        }
    }

    // Numeric constants that may stay next to their code (docs/design.md, "Bounded inputs and caches": values of an
    // encoding or a layout, message caps, exit codes). File name and constant; every other numeric const of src/ must be
    // in src/Shared/Tuning.cs (or be defined as "= Tuning.X.Y").
    private static readonly HashSet<string> ConstantsOutsideTuning = new(StringComparer.Ordinal)
    {
        "JsonLinesAuditSink.cs ClosedBit", // bit of the ring's tail word
        "JsonLinesAuditSink.cs RecordSchema", // format: the audit record's schema version
        "JsonLinesAuditSink.cs BindingBytes", // size estimates of the record's fixed text
        "JsonLinesAuditSink.cs LinkBytes",
        "JsonLinesAuditSink.cs ShadowBytes",
        "AuditLogReader.cs ReplayableSchema", // format: the audit record schema a replay reads whole
        "DecisionDetails.cs MaxUndeclaredPerLine", // message cap
        "DecisionDetails.cs shown", // message cap
        "AirbacCli.cs ExitOk", // exit codes
        "AirbacCli.cs ExitNegative",
        "AirbacCli.cs ExitUsage",
        "PolicyDocumentReader.cs MaxQuotedLength", // message cap
        "Duration.cs MaxMinutes", // format: the longest duration written (100 years)
        "Duration.cs Day", // unit
        "ReviewState.cs MaxListedGaps", // report cap
        "CompilerRun.Inheritance.cs MaxCycleRolesShown", // message cap
        "CompilerRun.Validation.cs MaxTiersShown", // message cap
        "NameTable.cs Multiplier", // hash constant (golden ratio)
        "CompiledPolicy.cs AnyAction", // sentinel ids
        "CompiledPolicy.cs GlobAction",
        "CompiledPolicy.cs UnknownTagBit", // bit width of the tag mask
        "DiagnosticText.cs MaxQuotedCharacters", // message cap
        "PolicyFilter.cs MaxTextLength", // text cap of PolicyFilter.ToString
        "CompilerRun.cs MaxTags", // bit width of the tag mask (63 tags plus the unknown-tag bit)
        "RoleSetTable.cs HashThreshold", // alias of RuleBucket's
        "RoleSetTable.cs MemoKeys", // layout: memo slots per table
        "RoleSetTable.cs Overhead", // size estimates
        "RoleSetTable.cs TailLength", // layout
        "RoleSetTable.cs Bytes", // size estimate
        "CompiledPolicy.RoleSets.cs MemoBindings", // layout of the memo key
        "CompiledPolicy.RoleSets.cs MemoRoleBits", // bit width of the memo key
        "CompiledTables.cs CatalogUnknown", // sentinel id
        "CompiledPolicy.Gates.cs GateActive", // bits of a role's state during a request
        "CompiledPolicy.Gates.cs GateKnown",
        "CompiledPolicy.Gates.cs GateHolds",
        "CompiledPolicy.Gates.cs GateActiveWithoutBreakGlass",
        "CompiledPolicy.Gates.cs GateVisited",
        "Decision.cs ActivationShift", // bit layout of a decision's break-glass part
        "Decision.cs DetailShift", // bit layout of a decision's condition or approval part
        "CompiledPolicy.Gates.cs GateUngated",
        "FilterRow.cs MaxIdentifierBytes", // format: PostgreSQL's longest identifier (NAMEDATALEN - 1)
        "PredicateWriters.cs InlineWidth", // layout: the longest chain printed on one line
    };

    [Fact]
    public void NumericConstants_LiveInTuning_UnlessTheyAreEncodingOrFormat()
    {
        string src = Path.Combine(RepositoryRoot.Path, "src");
        var found = new List<string>();
        foreach (string file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(src, file).Replace('\\', '/');
            if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal) || relative == "Shared/Tuning.cs")
            {
                continue;
            }

            foreach (Match match in NumericConst().Matches(File.ReadAllText(file)))
            {
                if (!match.Groups["value"].Value.TrimStart().StartsWith("Tuning.", StringComparison.Ordinal))
                {
                    found.Add(Path.GetFileName(file) + " " + match.Groups["name"].Value);
                }
            }
        }

        found.Should().NotBeEmpty("the scan must see the allowed constants");
        found.Where(c => !ConstantsOutsideTuning.Contains(c)).Should().BeEmpty(
            "a tuning value goes in src/Shared/Tuning.cs with its reason (docs/design.md, \"Bounded inputs and caches\"); an encoding or format constant goes on the allow-list above");
    }

    [Fact]
    public void PackagesDoc_ListsEveryPackableProject_AndTheCliRowNamesItsCommands()
    {
        string src = Path.Combine(RepositoryRoot.Path, "src");
        var packable = Directory.EnumerateFiles(src, "*.csproj", SearchOption.AllDirectories)
            .Where(project => File.Exists(Path.Combine(Path.GetDirectoryName(project)!, "PublicAPI.Shipped.txt"))
                || XDocument.Load(project).Descendants().Any(e => e.Name.LocalName is "PackAsTool" or "IsPackable" && e.Value.Trim() == "true"))
            .Select(Path.GetFileNameWithoutExtension)
            .Order(StringComparer.Ordinal)
            .ToList();

        var rows = File.ReadAllLines(Path.Combine(RepositoryRoot.Path, "docs", "packages.md"))
            .Select(line => (Line: line, Match: PackageRow().Match(line))).Where(r => r.Match.Success).ToList();

        packable.Should().HaveCount(10, "docs/packages.md and .ci/run speak of ten packages");
        rows.Select(r => r.Match.Groups["name"].Value).Order(StringComparer.Ordinal).Should().Equal(packable,
            "docs/packages.md lists every packable project of src/, and nothing else");
        string cli = rows.Single(r => r.Match.Groups["name"].Value == "AiRbac.Cli").Line;
        foreach (string command in new[] { "lint", "check", "test", "filter", "diff", "matrix", "review", "bench", "import", "demo" })
        {
            cli.Should().Contain(command, "the CLI row names every command");
        }
    }

    [GeneratedRegex(@"^\| `(?<name>AiRbac\.[A-Za-z.]+)` \|")]
    private static partial Regex PackageRow();

    [GeneratedRegex(@"\bconst\s+(?:int|long|uint|ulong|short|ushort|byte|sbyte|double|float|decimal|nint|nuint)\s+(?<name>\w+)\s*=(?<value>[^;]*);")]
    private static partial Regex NumericConst();
}
