using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xunit.Abstractions;

namespace AiRbac.Store.Tests;

/// <summary>
/// The index advice of docs/retrieval.md ("Indexes"): its statements run on PostgreSQL as written; each index can serve
/// the test the store filter's SQL makes of its column (EXPLAIN with sequential scans off names it), the tags index only
/// for a required (NOT NULL) column; and with the indexes, forced into use, the filters of the store tests still select
/// exactly what <c>Authorize</c> allows. The plans PostgreSQL picks by itself are printed, not asserted.
/// </summary>
public sealed partial class IndexAdviceTests(DocumentStore store, ITestOutputHelper output) : IClassFixture<DocumentStore>
{
    [SkippableFact]
    public void IndexStatementsOfTheDocs_Run_ServeTheFilterTests_AndKeepTheResultsExact()
    {
        Skip.If(store.Unavailable is not null, store.Unavailable);
        string[] statements = DocumentedStatements();
        statements.Should().Contain(s => s.Contains("pg_trgm", StringComparison.Ordinal)).And.HaveCountGreaterThanOrEqualTo(5);
        var cases = Cases();
        using var context = store.NewContext();
        var connection = (NpgsqlConnection)context.Database.GetDbConnection();
        connection.Open();

        foreach (string statement in statements)
        {
            Execute(connection, statement);
        }

        Execute(connection, "ANALYZE documents");
        var indexes = Rows(connection, "SELECT indexname FROM pg_indexes WHERE tablename = 'documents'");
        indexes.Should().Contain(["documents_name_trgm", "documents_scope", "documents_tier", "documents_tags"]);
        foreach (var (name, subject, action) in cases)
        {
            output.WriteLine($"{name}: {Plan(context, subject, action)}");
        }

        // Each index serves the shape the filter's SQL gives its column (EF Core and Npgsql; airbac filter prints the same tests).
        Execute(connection, "SET enable_seqscan = off");
        Explain(connection, "SELECT id FROM documents WHERE name LIKE 'doc:patients/%' ESCAPE '\\'").Should().Contain("documents_name_trgm");
        Explain(connection, "SELECT id FROM documents WHERE name LIKE 'doc:a\\_b\\\\%' ESCAPE '\\'").Should().Contain("documents_name_trgm");
        Explain(connection, "SELECT id FROM documents WHERE name = $1", "doc:x").Should().Contain("documents_name_trgm");
        Explain(connection, "SELECT id FROM documents WHERE scope = $1 OR scope LIKE $2 ESCAPE '\\'", "acme/health", "acme/health/%").Should().Contain("documents_scope");
        Explain(connection, "SELECT id FROM documents WHERE tier = ANY ($1)", (object)new[] { "public", "internal" }).Should().Contain("documents_tier");
        Explain(connection, "SELECT id FROM documents WHERE tags <@ $1", (object)new[] { "phi" }).Should().Contain("documents_tags");
        Explain(connection, "SELECT id FROM documents WHERE tier IS NULL OR tier = ANY ($1)", (object)new[] { "public" }).Should().Contain("documents_tier");
        Explain(connection, "SELECT id FROM documents WHERE tags IS NULL OR tags <@ $1", (object)new[] { "phi" }).Should().NotContain("documents_tags",
            "GIN cannot find null arrays: the clearance test of a nullable tags column is not indexable (docs/retrieval.md, \"Indexes\")");
        using (var required = new RequiredTagsContext(new DbContextOptionsBuilder<RequiredTagsContext>().UseNpgsql(store.ConnectionString).Options))
        {
            var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
            string sql = StoreScenario.Policy.FilterFor(alice, "data:read").ToStoreFilter(StoreScenario.Mapping, StoreScenario.Postgres).Apply(required.Documents).ToQueryString();
            sql.Should().Contain("d.tags <@ @Clearances").And.NotContain("tags IS NULL", "EF Core drops the null test of a required column, which leaves the indexable test");
        }

        // Index scans, forced, select the same rows: pg_trgm reads the escaped LIKE patterns as the scans do.
        foreach (var (name, subject, action) in cases)
        {
            var filter = StoreScenario.Policy.FilterFor(subject, action).ToStoreFilter(StoreScenario.Mapping, StoreScenario.Postgres);
            var allowed = store.Documents.Where(d => StoreScenario.Policy.Authorize(subject, action, StoreScenario.Mapping.ToResource(d)).Allowed).Select(d => d.Id).Order().ToList();
            filter.Apply(context.Documents.AsNoTracking()).OrderBy(d => d.Id).Select(d => d.Id).ToList().Should().Equal(allowed, name);
        }

        Execute(connection, "SET enable_seqscan = on");
    }

    private static (string Name, Subject Subject, string Action)[] Cases()
    {
        var carol = new Subject("carol", SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/health"), new RoleBinding("viewer")]);
        return
        [
            ("alice", Subject.WithRoles("alice", SubjectKind.User, "analyst"), "data:read"),
            ("carol", carol, "data:read"),
            ("carol in acme/health only", new Subject("carol", SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/health")]), "data:read"),
            ("rag-bot for carol", Subject.WithRoles("rag-bot", SubjectKind.Agent, "assistant").ActingFor(carol), "data:read"),
            ("ivan", new Subject("ivan", SubjectKind.User, [new RoleBinding("researcher", Scope: "acme/r_d"), new RoleBinding("analyst", Scope: "acme")]), "data:read"),
            ("approver", Subject.WithRoles("alice", SubjectKind.User, "approver"), "data:approve"),
        ];
    }

    /// <summary>The statements of the first <c>sql</c> block under docs/retrieval.md's "Indexes" heading.</summary>
    private static string[] DocumentedStatements()
    {
        string doc = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "retrieval.md"));
        var block = IndexBlock().Match(doc);
        block.Success.Should().BeTrue("docs/retrieval.md has an Indexes section with a sql block");
        return [.. block.Groups["sql"].Value.Split(';').Select(s => string.Join('\n', s.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal))).Trim()).Where(s => s.Length > 0)];
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AiRbac.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (AiRbac.sln) was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The access paths PostgreSQL chose for the subject's filter as EF Core sends it (parameters bound).</summary>
    private static string Plan(DocumentContext context, Subject subject, string action)
    {
        var filter = StoreScenario.Policy.FilterFor(subject, action).ToStoreFilter(StoreScenario.Mapping, StoreScenario.Postgres);
        using var command = filter.Apply(context.Documents.AsNoTracking()).CreateDbCommand();
        command.CommandText = "EXPLAIN " + command.CommandText;
        using var reader = command.ExecuteReader();
        var nodes = new List<string>();
        while (reader.Read())
        {
            var node = PlanNode().Match(reader.GetString(0));
            if (node.Success)
            {
                nodes.Add(node.Value.Trim());
            }
        }

        return string.Join("; ", nodes);
    }

    private static string Explain(NpgsqlConnection connection, string sql, params object[] parameters)
    {
        using var command = new NpgsqlCommand("EXPLAIN " + sql, connection);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        using var reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read())
        {
            plan.Add(reader.GetString(0));
        }

        return string.Join('\n', plan);
    }

    private static List<string> Rows(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    /// <summary>The documents table with <c>tags</c> required (<c>NOT NULL</c>, an empty array for none).</summary>
    private sealed class RequiredTagsContext(DbContextOptions<RequiredTagsContext> options) : DbContext(options)
    {
        public DbSet<Document> Documents => Set<Document>();

        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            var document = modelBuilder.Entity<Document>().ToTable("documents");
            document.HasKey(d => d.Id);
            document.Property(d => d.Id).HasColumnName("id");
            document.Property(d => d.Name).HasColumnName("name");
            document.Property(d => d.Scope).HasColumnName("scope");
            document.Property(d => d.Tier).HasColumnName("tier");
            document.Property(d => d.Tags).HasColumnName("tags").IsRequired();
            document.Property(d => d.Owner).HasColumnName("owner");
        }
    }

    [GeneratedRegex(@"^### Indexes\b.*?```sql\n(?<sql>.*?)```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex IndexBlock();

    [GeneratedRegex(@"(Seq Scan|Bitmap Index Scan|Index Scan|Index Only Scan)( on \w+)?")]
    private static partial Regex PlanNode();
}
