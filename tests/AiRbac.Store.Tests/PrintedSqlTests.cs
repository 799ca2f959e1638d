using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AiRbac.Cli;
using AiRbac.Cli.StoreFilters;
using AiRbac.Yaml;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Xunit.Abstractions;

namespace AiRbac.Store.Tests;

/// <summary>
/// <c>airbac filter --format sql</c> run on PostgreSQL (docs/cli.md, `airbac filter`): the printed condition, comments
/// and all, selects exactly the rows <c>Authorize</c> allows on the 100,000 documents (a superset, said in its header,
/// for a policy with <c>*</c> globs), the same rows as the EF Core translation of the same store filter, with
/// <c>standard_conforming_strings</c> on and off; and a policy whose names, scopes, tiers, tags and subject ids hold
/// quotes, backslashes, <c>%</c>, <c>_</c> and SQL keeps them literals.
/// </summary>
public sealed class PrintedSqlTests(DocumentStore store, ITestOutputHelper output) : IClassFixture<DocumentStore>
{
    private const string Now = "2026-06-01T00:00:00Z";

    private static readonly string PolicyYaml = StoreScenario.PolicyYaml + """

        bindings:
          subjects:
            carol: { kind: user, roles: [ { role: clinician, scope: acme/health }, viewer ] }
            ivan: { kind: user, roles: [ { role: researcher, scope: acme/r_d }, { role: analyst, scope: acme } ] }
        """;

    private static readonly CompiledPolicy Policy = Compile(PolicyYaml);

    public static TheoryData<string> Cases() => ["alice", "carol", "rag-bot for carol", "ivan", "approver", "globber"];

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void PrintedSql_OnOneHundredThousandRows_IsWhatAuthorizeAllows_AndWhatEfCoreSelects(string name)
    {
        Skip.If(store.Unavailable is not null, store.Unavailable);
        var (args, subject, action, exact) = Case(name);
        using var files = new PolicyFile(PolicyYaml);
        string sql = Print([files.Path, .. args, "--action", action]);
        var allowed = store.Documents.Where(d => Policy.Authorize(subject, action, StoreScenario.Mapping.ToResource(d)).Allowed).Select(d => d.Id).ToHashSet();

        using var context = store.NewContext();
        var connection = (NpgsqlConnection)context.Database.GetDbConnection();
        connection.Open();
        List<long> printed = Select(connection, "documents", sql);
        Execute(connection, "SET standard_conforming_strings = off");
        List<long> nonStandard = Select(connection, "documents", sql);
        Execute(connection, "SET standard_conforming_strings = on");
        var viaEf = Policy.FilterFor(subject, action).ToStoreFilter(StoreScenario.Mapping, StoreScenario.Postgres)
            .Apply(context.Documents.AsNoTracking()).OrderBy(d => d.Id).Select(d => d.Id).ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {allowed.Count} allowed, {printed.Count} from the printed SQL\n{sql}"));

        allowed.Should().NotBeEmpty().And.HaveCountLessThan(DocumentStore.Rows);
        printed.Should().Equal(viaEf, "the printed SQL and EF Core's translate the same store filter");
        nonStandard.Should().Equal(printed, "the literals read the same whatever standard_conforming_strings is");
        allowed.Except(printed).Should().BeEmpty("the printed SQL passes every row Authorize allows");
        if (exact)
        {
            sql.Should().Contain("-- exact:");
            printed.Should().BeEquivalentTo(allowed, "an exact filter's SQL passes exactly what Authorize allows");
        }
        else
        {
            sql.Should().Contain("-- approximate:").And.Contain("name patterns with *, ? or a class are widened");
            printed.Should().HaveCountGreaterThan(allowed.Count);
        }
    }

    [SkippableFact]
    public void HostilePolicy_QuotesBackslashesAndWildcards_StayLiterals_AndTheRowsAreWhatAuthorizeAllows()
    {
        Skip.If(store.Unavailable is not null, store.Unavailable);
        const string Hostile = """
            version: 1
            sensitivity: [ "pub'lic", "in\\ter_nal", "conf%'; --" ]
            roles:
              reader:
                allow: [ "data:read on doc:it's/**", "data:read on doc:a%b_c\\d", "data:read on doc:x');DROP/TABLE/documents;--", "data:read on doc:q\"uote/**" ]
                deny: [ "data:read on doc:it's/secret'/**" ]
                max_sensitivity: "in\\ter_nal"
                clearances: [ "p'ii" ]
              approver:
                allow: [ "data:approve on doc:**" ]
                max_sensitivity: "conf%'; --"
                clearances: [ "p'ii", "ph\\i" ]
            resources:
              - { match: "doc:it's/secret'/**", sensitivity: "conf%'; --", tags: [ "p'ii" ] }
              - { match: "doc:q\"uote/**", sensitivity: "in\\ter_nal", tags: [ "ph\\i" ] }
            constraints:
              not_by_owner: [ "data:approve" ]
            bindings:
              subjects:
                "o'brien": { roles: [ { role: reader, scope: "acme/o'brien%_\\x" } ] }
            """;
        var policy = Compile(Hostile);
        string?[] names = ["doc:it's/a", "doc:it's/secret'/b", "doc:itXs/a", "doc:a%b_c\\d", "doc:aXbYc\\d", "doc:a%b_c\\\\d", "doc:x');DROP/TABLE/documents;--",
            "doc:q\"uote/z", "doc:other", ""];
        string?[] scopes = [null, "acme/o'brien%_\\x", "acme/o'brien%_\\x/deep", "acme/oXbrienAB\\x", "acme/o'brien%_\\xy", "acme"];
        string?[] tiers = [null, "pub'lic", "in\\ter_nal", "conf%'; --", "inXterYnal", "public"];
        string?[]?[] tagSets = [null, [], ["p'ii"], ["pXii"], ["ph\\i"], ["p'ii", null]];
        const string Dropper = "x'); DROP TABLE documents; --";
        string?[] owners = [null, "o'brien", Dropper];
        var rows = new List<Document>();
        foreach (var (n, s, t, g, o) in from n in names from s in scopes from t in tiers from g in tagSets from o in owners select (n, s, t, g, o))
        {
            rows.Add(new Document { Id = rows.Count + 1, Name = n!, Scope = s, Tier = t, Tags = g, Owner = o });
        }

        using var context = store.NewContext();
        var connection = (NpgsqlConnection)context.Database.GetDbConnection();
        connection.Open();
        Execute(connection, "CREATE TABLE hostile (id bigint PRIMARY KEY, \"doc name\" text, \"sc\"\"ope\" text, tier text, labels text[], \"Owner\" text)");
        using (var writer = connection.BeginBinaryImport("COPY hostile (id, \"doc name\", \"sc\"\"ope\", tier, labels, \"Owner\") FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var d in rows)
            {
                writer.StartRow();
                writer.Write(d.Id, NpgsqlDbType.Bigint);
                writer.Write(d.Name, NpgsqlDbType.Text);
                WriteOrNull(writer, d.Scope);
                WriteOrNull(writer, d.Tier);
                if (d.Tags is null)
                {
                    writer.WriteNull();
                }
                else
                {
                    writer.Write(d.Tags, NpgsqlDbType.Array | NpgsqlDbType.Text);
                }

                WriteOrNull(writer, d.Owner);
            }

            writer.Complete();
        }

        string[] columns = ["--column", "name=doc name", "--column", "scope=sc\"ope", "--column", "tags=labels", "--column", "owner=Owner"];
        var cases = new (string[] Args, Subject Subject, string Action)[]
        {
            (["--subject", "o'brien", "--action", "data:read"], new Subject("o'brien"), "data:read"),
            (["--subject", "o'brien", "--role", "reader", "--action", "data:read"], new Subject("o'brien", null, [new RoleBinding("reader")]), "data:read"),
            (["--subject", Dropper, "--role", "approver", "--action", "data:approve"], new Subject(Dropper, null, [new RoleBinding("approver")]), "data:approve"),
        };
        using var files = new PolicyFile(Hostile);
        foreach (var (args, subject, action) in cases)
        {
            string sql = Print([files.Path, .. args, .. columns]);
            output.WriteLine(sql);
            var allowed = rows.Where(d => policy.Authorize(subject, action, StoreScenario.Mapping.ToResource(d)).Allowed).Select(d => d.Id).Order().ToList();
            allowed.Should().NotBeEmpty().And.HaveCountLessThan(rows.Count);
            sql.Should().Contain("-- exact:");
            Select(connection, "hostile", sql).Should().Equal(allowed, $"{string.Join(' ', args)}: exactly the rows Authorize allows");
            Execute(connection, "SET standard_conforming_strings = off");
            Select(connection, "hostile", sql).Should().Equal(allowed, "and the same with standard_conforming_strings off");
            Execute(connection, "SET standard_conforming_strings = on");
        }

        using var count = new NpgsqlCommand("SELECT count(*) FROM documents", connection);
        ((long)count.ExecuteScalar()!).Should().Be(DocumentStore.Rows, "the DROP TABLE in a policy name and a subject id stayed a string");
    }

    [SkippableFact]
    public void SqlWriter_EveryTestInBothPolarities_HoldsExactlyWhereItsMeaningDoes_NullsIncluded()
    {
        // The writer's truth table on PostgreSQL: each test and its negation, alone, beside a null test that lets the
        // writer drop its "IS NULL OR", and beside one that does not, over names and tag arrays with nulls, quotes,
        // backslashes and wildcards.
        Skip.If(store.Unavailable is not null, store.Unavailable);
        string?[] names = [null, "", "a", "a'b", "x\\y", "a%", "ab", "A"];
        string?[]?[] tagSets = [null, [], ["p"], ["p", null], ["q"], [null], ["p", "q"]];
        var rows = (from n in names from t in tagSets select (Name: n, Tags: t)).ToArray();
        using var context = store.NewContext();
        var connection = (NpgsqlConnection)context.Database.GetDbConnection();
        connection.Open();
        Execute(connection, "CREATE TABLE truth (id bigint PRIMARY KEY, name text, scope text, tier text, tags text[], owner text)");
        for (int i = 0; i < rows.Length; i++)
        {
            using var insert = new NpgsqlCommand("INSERT INTO truth (id, name, tags) VALUES ($1, $2, $3)", connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = (long)i });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)rows[i].Name ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)rows[i].Tags ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.ExecuteNonQuery();
        }

        var name = RowField.Name;
        PredicateNode[] tests =
        [
            new IsNullNode(name), new EqualsNode(name, "a"), new EqualsNode(name, "a'b"), new EqualsNode(name, "x\\y"),
            new InNode(name, ["a", "a'b"]), new InNode(name, []), new LikeNode(name, "a%"), new LikeNode(name, "a\\%"), new LikeNode(name, "x\\\\y"),
            new TagsWithinNode(RowField.Tags, ["p"]), new TagsWithinNode(RowField.Tags, []), new IsNullNode(RowField.Tags), new BoolNode(true), new BoolNode(false),
        ];
        var cases = new List<PredicateNode>();
        foreach (var test in tests)
        {
            var field = test switch { TagsWithinNode or IsNullNode { Field: RowField.Tags } => RowField.Tags, _ => name };
            cases.AddRange([test, new NotNode(test),
                new AndNode([new NotNode(new IsNullNode(field)), new NotNode(test)]), new OrNode([new IsNullNode(field), new NotNode(test)]),
                new NotNode(new AndNode([test, new NotNode(new IsNullNode(field))])), new NotNode(new OrNode([new NotNode(test), new IsNullNode(field)])),
                new AndNode([new IsNullNode(field), new NotNode(test)]), new OrNode([new NotNode(new IsNullNode(field)), new NotNode(test)])]);
        }

        var columns = FilterColumns.Parse([]);
        foreach (var node in cases)
        {
            string sql = SqlWhereWriter.Write(node, columns, 1 << 20);
            var expected = Enumerable.Range(0, rows.Length).Where(i => Holds(node, rows[i].Name, rows[i].Tags)).Select(i => (long)i).ToList();
            Select(connection, "truth", sql).Should().Equal(expected, $"{node} written as {sql}");
        }
    }

    /// <summary>What a node means (the writers' contract, PredicateTree.cs): the oracle of the truth-table test.</summary>
    private static bool Holds(PredicateNode node, string? name, string?[]? tags) => node switch
    {
        BoolNode b => b.Value,
        NotNode n => !Holds(n.Operand, name, tags),
        AndNode a => a.Operands.All(o => Holds(o, name, tags)),
        OrNode o => o.Operands.Any(x => Holds(x, name, tags)),
        IsNullNode { Field: RowField.Tags } => tags is null,
        IsNullNode => name is null,
        EqualsNode e => name == e.Value,
        InNode i => name is not null && i.Values.Contains(name),
        LikeNode l => name is not null && LikeRegex(l.Pattern).IsMatch(name),
        TagsWithinNode t => tags is not null && tags.All(g => g is not null && t.Values.Contains(g)),
        _ => throw new ArgumentOutOfRangeException(nameof(node)),
    };

    /// <summary>A <c>LIKE</c> pattern with <c>\\</c> as escape, as a regular expression (the oracle's, not the writer's).</summary>
    private static Regex LikeRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            regex.Append(c switch
            {
                '%' => ".*",
                '_' => ".",
                '\\' when i + 1 < pattern.Length => Regex.Escape(pattern[++i].ToString()),
                _ => Regex.Escape(c.ToString()),
            });
        }

        return new Regex(regex.Append('$').ToString(), RegexOptions.Singleline | RegexOptions.CultureInvariant);
    }

    private static (string[] Args, Subject Subject, string Action, bool Exact) Case(string name)
    {
        var carol = new Subject("carol");
        return name switch
        {
            "alice" => (["--subject", "alice", "--role", "analyst"], new Subject("alice", null, [new RoleBinding("analyst")]), "data:read", true),
            "carol" => (["--subject", "carol"], carol, "data:read", true),
            "rag-bot for carol" => (["--subject", "rag-bot", "--kind", "agent", "--role", "assistant", "--on-behalf-of", "carol"],
                new Subject("rag-bot", SubjectKind.Agent, [new RoleBinding("assistant")], carol), "data:read", true),
            "ivan" => (["--subject", "ivan"], new Subject("ivan"), "data:read", true),
            "approver" => (["--subject", "alice", "--role", "approver"], new Subject("alice", null, [new RoleBinding("approver")]), "data:approve", true),
            "globber" => (["--subject", "gus", "--role", "globber"], new Subject("gus", null, [new RoleBinding("globber")]), "data:read", false),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    /// <summary>The output of <c>airbac filter POLICY ARGS --format sql</c> (exit 0).</summary>
    private static string Print(string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int status = AirbacCli.Run(["filter", .. args, "--now", Now, "--format", "sql"], TextReader.Null, stdout, stderr);
        status.Should().Be(0, stderr.ToString());
        return stdout.ToString();
    }

    /// <summary>The ids of the table's rows where the printed condition holds, in order.</summary>
    private static List<long> Select(NpgsqlConnection connection, string table, string condition)
    {
        using var command = new NpgsqlCommand($"SELECT id FROM {table} WHERE\n{condition}\nORDER BY id", connection);
        using var reader = command.ExecuteReader();
        var ids = new List<long>();
        while (reader.Read())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static void WriteOrNull(NpgsqlBinaryImporter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNull();
        }
        else
        {
            writer.Write(value, NpgsqlDbType.Text);
        }
    }

    private static CompiledPolicy Compile(string yaml)
    {
        var compilation = YamlPolicy.Compile(yaml, "printed-sql-test.yaml");
        return compilation.Policy ?? throw new InvalidOperationException(string.Join("\n", compilation.Diagnostics));
    }

    /// <summary>A policy written to a temporary file for the command line, deleted on dispose.</summary>
    private sealed class PolicyFile : IDisposable
    {
        public PolicyFile(string yaml)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "airbac-printed-sql-" + Guid.NewGuid().ToString("N")[..12] + ".yaml");
            File.WriteAllText(Path, yaml);
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}
