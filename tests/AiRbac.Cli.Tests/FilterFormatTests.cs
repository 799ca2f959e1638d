using System.Text;

namespace AiRbac.Cli.Tests;

/// <summary>
/// <c>airbac filter --format text|sql|expression</c> and <c>--column</c> (docs/cli.md): each format's output and header,
/// the column options, and the exit codes. tests/AiRbac.Store.Tests/PrintedSqlTests.cs runs the printed SQL on PostgreSQL.
/// </summary>
public class FilterFormatTests
{
    private const string Now = "2026-06-01T00:00:00Z";

    [Fact]
    public void FormatText_IsTheDefault()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);

        var plain = Cli.Run("filter", policy, "--subject", "alice", "--action", "tool:invoke", "--now", Now);
        var text = Cli.Run("filter", policy, "--subject", "alice", "--action", "tool:invoke", "--now", Now, "--format", "text");

        text.ExitCode.Should().Be(0, text.Error);
        text.Out.Should().Be(plain.Out).And.StartWith("subject 'alice' may 'tool:invoke' a resource");
    }

    [Fact]
    public void FormatSql_PrintsAConditionOverTheDefaultColumns_WithAHeader()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);

        var result = Cli.Run("filter", policy, "--subject", "dave", "--role", "clinician", "--action", "data:read", "--now", Now, "--format", "sql");

        result.ExitCode.Should().Be(0, result.Error);
        result.Error.Should().BeEmpty();
        result.OutLines.Should().StartWith(
        [
            "-- airbac filter: the rows (the condition of a PostgreSQL WHERE clause) subject 'dave' may 'data:read', as of 2026-06-01T00:00:00Z",
            "-- columns: name \"name\", scope \"scope\", tier \"tier\" (text: the tier's name), tags \"tags\" (text[]), owner \"owner\"",
            "-- exact: it passes exactly the resources Authorize allows.",
            "(",
            "  \"name\" IS NOT NULL",
            "  AND \"name\" <> ''",
        ]);
        result.Out.Should().Contain("AND (\"tier\" IS NULL OR \"tier\" IN ('public', 'internal', 'confidential', 'restricted'))")
            .And.Contain("AND \"name\" LIKE 'dataset:patients/%' ESCAPE E'\\\\'")
            .And.Contain("AND (\"tags\" IS NULL OR \"tags\" <@ ARRAY['phi']::text[])")
            .And.Contain("\"scope\" NOT LIKE '%//%' ESCAPE E'\\\\'");
    }

    [Fact]
    public void FormatSql_OwnerRuleAndGlobs_AreWrittenAndTheApproximationIsNamed()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);

        var result = Cli.Run("filter", policy, "--subject", "dave", "--role", "approver", "--action", "config:approve", "--now", Now, "--format", "sql");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("-- approximate: it passes every resource Authorize allows and some it denies; post-filter the result")
            .And.Contain("--   name patterns with *, ? or a class are widened (a grant to LIKE with %, a deny left out of the condition)")
            .And.Contain("AND (\"owner\" IS NULL OR \"owner\" <> 'dave')")
            .And.Contain("AND \"name\" LIKE 'config:%' ESCAPE E'\\\\'")
            .And.NotContain("-- exact");
    }

    [Fact]
    public void FormatSql_Columns_AreRenamedQuotedOrLeftOut()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);

        var result = Cli.Run("filter", policy, "--subject", "dave", "--role", "approver", "--action", "config:approve", "--now", Now, "--format", "sql",
            "--column", "name=doc_name", "--column", "scope=Scope \"Path\"", "--column", "owner=", "--column", "tags=labels");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("-- columns: name \"doc_name\", scope \"Scope \"\"Path\"\"\", tier \"tier\" (text: the tier's name), tags \"labels\" (text[]); none for owner (absent from every row)")
            .And.Contain("\"doc_name\" LIKE 'config:%'")
            .And.Contain("\"Scope \"\"Path\"\"\" NOT LIKE '/%'")
            .And.Contain("(\"labels\" IS NULL OR \"labels\" <@ ARRAY[]::text[])")
            .And.NotContain("owner\" <>", "a table without an owner column has no owner rule to test");
    }

    [Theory]
    [InlineData("nam=doc_name")]
    [InlineData("name")]
    [InlineData("Name=doc_name")]
    [InlineData("0=doc_name")]
    [InlineData("name,scope=x")]
    [InlineData("name=")]
    [InlineData("name=a\nb")]
    [InlineData("name=\u202Eeman")]
    public void FormatSql_BadColumn_ExitsTwoAndPrintsNothing(string spec)
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);

        var result = Cli.Run("filter", policy, "--subject", "dave", "--role", "clinician", "--action", "data:read", "--format", "sql", "--column", spec);

        result.ExitCode.Should().Be(2);
        result.Out.Should().BeEmpty();
        result.Error.Should().StartWith("error: --column: ");
    }

    [Fact]
    public void FormatSql_ColumnLimits_RepeatedTooLongOrWithoutSql_ExitTwo()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        string[] request = ["filter", policy, "--subject", "dave", "--role", "clinician", "--action", "data:read"];

        var repeated = Cli.Run([.. request, "--format", "sql", "--column", "tier=a", "--column", "tier=b"]);
        var longest = Cli.Run([.. request, "--format", "sql", "--column", "name=" + new string('é', 31) + "x"]);
        var tooLong = Cli.Run([.. request, "--format", "sql", "--column", "name=" + new string('é', 32)]);
        var withText = Cli.Run([.. request, "--column", "name=doc_name"]);
        var badFormat = Cli.Run([.. request, "--format", "yaml"]);

        repeated.ExitCode.Should().Be(2);
        repeated.Error.Should().Contain("tier is given twice");
        longest.ExitCode.Should().Be(0, "63 bytes is PostgreSQL's longest identifier");
        tooLong.ExitCode.Should().Be(2, "64 bytes would be cut by PostgreSQL");
        withText.ExitCode.Should().Be(2);
        withText.Error.Should().Contain("--column applies to --format sql only");
        badFormat.ExitCode.Should().Be(2);
        new[] { repeated, tooLong, withText, badFormat }.Should().OnlyContain(r => r.Out.Length == 0);
    }

    [Fact]
    public void FormatExpression_PrintsTheCSharpPredicate()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);

        var result = Cli.Run("filter", policy, "--subject", "alice", "--action", "tool:invoke", "--now", Now, "--format", "expression");

        result.ExitCode.Should().Be(0, result.Error);
        result.OutLines[0].Should().Be("// airbac filter: the records (C# predicate over the record) subject 'alice' may 'tool:invoke', as of 2026-06-01T00:00:00Z");
        result.OutLines[1].Should().StartWith("// approximate:");
        result.Out.Should().Contain("record => (")
            .And.Contain("  record.Name != null")
            .And.Contain("&& EF.Functions.Like(record.Name, \"tool:report\\\\_%\", \"\\\\\")")
            .And.Contain("new[] { \"public\", \"internal\", \"confidential\" }.Contains(record.Tier)")
            .And.Contain("record.Tags.All(tag => new string[0].Contains(tag))")
            .And.Contain("&& !EF.Functions.Like(record.Name, \"dataset:patients/%\", \"\\\\\")");
    }

    [Fact]
    public void FormatSqlAndExpression_HostileSubjectId_EndsNoCommentAndNoLiteral()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        const string Id = "eve'\nOR TRUE --\\\"";

        var sql = Cli.Run("filter", policy, "--subject", Id, "--role", "approver", "--action", "config:approve", "--now", Now, "--format", "sql");
        var expression = Cli.Run("filter", policy, "--subject", Id, "--role", "approver", "--action", "config:approve", "--now", Now, "--format", "expression");

        sql.ExitCode.Should().Be(0, sql.Error);
        sql.OutLines.Should().NotContain(line => line.TrimStart().StartsWith("OR TRUE", StringComparison.Ordinal), "a newline in an id cannot start a line of SQL");
        sql.OutLines[0].Should().Contain("subject 'eve'\\u000AOR TRUE --\\\"' may");
        sql.Out.Should().Contain("(\"owner\" IS NULL OR \"owner\" <> E'eve''\\u000AOR TRUE --\\\\\"')");
        expression.ExitCode.Should().Be(0, expression.Error);
        expression.Out.Should().Contain("record.Owner != \"eve'\\u000AOR TRUE --\\\\\\\"\"");
    }

    [Fact]
    public void FormatSql_IncompleteFilter_PassesEverythingAndSaysSo()
    {
        using var files = new TempFiles();
        var yaml = new StringBuilder(Policies.Basic).Append("\n    many: { kind: user, roles: [");
        yaml.AppendJoin(", ", Enumerable.Range(0, 1100).Select(i => $"{{ role: clinician, scope: s{i} }}")).Append("] }\n");
        string policy = files.Write("p.yaml", yaml.ToString());

        var result = Cli.Run("filter", policy, "--subject", "many", "--action", "data:read", "--now", Now, "--format", "sql");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("--   the policy filter is incomplete (a size bound was reached): everything passes; decide each resource with AuthorizeMany");
        result.OutLines[^1].Should().Be("TRUE");
    }

    [Fact]
    public void FormatSql_PastTheOutputBound_ExitsTwoAndPrintsNothing()
    {
        // Text repeats the catalog's checks for every role: 400 roles and 400 catalog entries print past 8 Mi characters.
        using var files = new TempFiles();
        var yaml = new StringBuilder("version: 1\nroles:\n");
        for (int r = 0; r < 400; r++)
        {
            yaml.Append("  r").Append(r).Append(": { allow: [ \"data:read on doc:r").Append(r).Append("/**\" ], max_sensitivity: ").Append(r % 2 == 0 ? "internal" : "confidential").Append(" }\n");
        }

        yaml.Append("resources:\n");
        for (int c = 0; c < 400; c++)
        {
            yaml.Append("  - { match: \"doc:catalogued-entry-number-").Append(c).Append("/**\", sensitivity: ").Append(c % 2 == 0 ? "restricted" : "public").Append(" }\n");
        }

        string policy = files.Write("p.yaml", yaml.ToString());
        string[] roles = [.. Enumerable.Range(0, 400).SelectMany(r => new[] { "--role", "r" + r })];

        var sql = Cli.Run(["filter", policy, "--subject", "many", "--action", "data:read", "--now", Now, "--format", "sql", .. roles]);
        var expression = Cli.Run(["filter", policy, "--subject", "many", "--action", "data:read", "--now", Now, "--format", "expression", .. roles]);
        var text = Cli.Run(["filter", policy, "--subject", "many", "--action", "data:read", "--now", Now, .. roles]);

        sql.ExitCode.Should().Be(2);
        sql.Out.Should().BeEmpty("a cut condition must never be printed");
        sql.Error.Should().Be("error: cannot print the filter as sql: the text would be longer than 8,388,608 characters\n");
        expression.ExitCode.Should().Be(2);
        expression.Out.Should().BeEmpty();
        text.ExitCode.Should().Be(0, "the readable text names the catalog once");
    }

    [Fact]
    public void FormatSqlAndExpression_CatalogNestedTwentyThousandDeep_ExitTwoInsteadOfOverflowingTheStack()
    {
        // The catalog folds into alternating OR and AND, one level per entry that alternately fits and does not.
        using var files = new TempFiles();
        var yaml = new StringBuilder("version: 1\nroles:\n  r: { allow: [ \"data:read on doc:**\" ], max_sensitivity: internal }\nresources:\n");
        for (int i = 0; i < 20_000; i++)
        {
            yaml.Append("  - { match: \"doc:e").Append(i).Append("/**\", sensitivity: ").Append(i % 2 == 0 ? "public" : "restricted").Append(" }\n");
        }

        string policy = files.Write("p.yaml", yaml.ToString());

        foreach (string format in new[] { "sql", "expression" })
        {
            var result = Cli.Run("filter", policy, "--subject", "x", "--role", "r", "--action", "data:read", "--format", format);
            result.ExitCode.Should().Be(2);
            result.Out.Should().BeEmpty();
            result.Error.Should().StartWith($"error: cannot print the filter as {format}: the ");
        }
    }

    [Fact]
    public void FormatSql_ValueWithALoneSurrogate_ExitsTwo()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);

        var sql = Cli.Run("filter", policy, "--subject", "eve\uD800", "--role", "approver", "--action", "config:approve", "--format", "sql");
        var expression = Cli.Run("filter", policy, "--subject", "eve\uD800", "--role", "approver", "--action", "config:approve", "--format", "expression");

        sql.ExitCode.Should().Be(2);
        sql.Out.Should().BeEmpty();
        sql.Error.Should().StartWith("error: cannot print the filter as sql: ").And.Contain("PostgreSQL text cannot");
        expression.ExitCode.Should().Be(0, "C# writes it as \\uD800");
        expression.Out.Should().Contain("record.Owner != \"eve\\uD800\"");
    }
}
