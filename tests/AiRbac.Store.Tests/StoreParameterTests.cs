using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;
using Xunit.Abstractions;

namespace AiRbac.Store.Tests;

/// <summary>
/// The store filter's values reach PostgreSQL as parameters (docs/retrieval.md, "Parameters"): the SQL EF Core writes
/// holds the subject's binding scopes, owner id and the tier and clearance lists as parameters and the policy's name
/// patterns as literals; subjects with the same roles get one SQL text, which EF Core compiles once and Npgsql can
/// prepare once; and every result is still what <c>Authorize</c> allows, row by row.
/// </summary>
public sealed partial class StoreParameterTests(DocumentStore store, ITestOutputHelper output) : IClassFixture<DocumentStore>
{
    private static CompiledPolicy Policy => StoreScenario.Policy;

    private static RecordMapping<Document> Mapping => StoreScenario.Mapping;

    [SkippableFact]
    public void SubjectValues_ReachPostgresAsParameters_NameLikePatternsStayLiterals()
    {
        Skip.If(store.Unavailable is not null, store.Unavailable);
        var carol = new Subject("carol", SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/health"), new RoleBinding("viewer")]);
        var approver = Subject.WithRoles("alice", SubjectKind.User, "approver");
        using var context = store.NewContext();

        string carolSql = Sql(context, carol, "data:read");
        string approverSql = Sql(context, approver, "data:approve");
        output.WriteLine(carolSql + "\n\n" + approverSql);

        string carolWhere = Where(carolSql);
        carolWhere.Should().Contain("d.scope = @Scope").And.Contain("d.scope LIKE @ScopeBelow ESCAPE '\\'").And.Contain("= ANY (@Tiers")
            .And.Contain("d.tags <@ @Clearances").And.Contain("d.name LIKE 'doc:patients/%' ESCAPE '\\'");
        carolWhere.Should().NotContain("'acme/health'").And.NotContain("'acme/health/%'").And.NotContain("'public'").And.NotContain("'phi'");
        carolSql.Should().Contain("-- @Scope='acme/health'").And.Contain("-- @ScopeBelow='acme/health/%'");
        Where(approverSql).Should().Contain("d.owner <> @Owner").And.NotContain("'alice'");

        ExpectAuthorize(context, carol, "data:read");
        ExpectAuthorize(context, approver, "data:approve");
    }

    [SkippableFact]
    public void SubjectsWithTheSameRoles_ShareOneStatement_WhichEfCoreCompilesOnce()
    {
        Skip.If(store.Unavailable is not null, store.Unavailable);
        int compilations = 0;
        var options = new DbContextOptionsBuilder<DocumentContext>()
            .UseNpgsql(store.ConnectionString)
            .LogTo(_ => Interlocked.Increment(ref compilations), [CoreEventId.QueryCompilationStarting])
            .Options;
        Subject[] clinicians =
        [
            new("carol", SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/health"), new RoleBinding("viewer")]),
            new("dora", SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/r_d"), new RoleBinding("viewer")]),
            new("erin", SubjectKind.User, [new RoleBinding("clinician", Scope: "other"), new RoleBinding("viewer")]),
        ];

        var texts = new List<string>();
        var times = new List<double>();
        var counts = new List<int>();
        foreach (var subject in clinicians)
        {
            using var context = new DocumentContext(options);
            var clock = Stopwatch.StartNew();
            ExpectAuthorize(context, subject, "data:read", UniqueShape);
            times.Add(clock.Elapsed.TotalMilliseconds);
            counts.Add(compilations);
            texts.Add(Where(Sql(context, subject, "data:read")));
        }

        int afterClinicians = compilations;
        using (var context = new DocumentContext(options))
        {
            ExpectAuthorize(context, Subject.WithRoles("alice", SubjectKind.User, "analyst"), "data:read", UniqueShape);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"query compilations after each clinician: {string.Join(", ", counts)}; {compilations - afterClinicians} more for the analyst; first query and read {times[0]:F1} ms, then {string.Join(", ", times.Skip(1).Select(t => t.ToString("F1", CultureInfo.InvariantCulture)))} ms"));
        texts.Distinct().Should().ContainSingle("the clinicians' filters differ only in their parameters' values");
        counts.Should().Equal([1, 1, 1], "EF Core compiles the query for the first clinician and reuses it for the others");
        (compilations - afterClinicians).Should().Be(1, "a subject with other roles has another shape (and shows the count is live)");
    }

    [SkippableFact]
    public void SubjectsWithTheSameRoles_ShareOnePreparedStatement_WithNpgsqlAutoPrepare()
    {
        Skip.If(store.Unavailable is not null, store.Unavailable);
        var options = new DbContextOptionsBuilder<DocumentContext>()
            .UseNpgsql(store.ConnectionString + ";Max Auto Prepare=4;Auto Prepare Min Usages=2")
            .Options;
        using var context = new DocumentContext(options);
        context.Database.OpenConnection();
        string[] scopes = ["acme/health", "acme/r_d", "other", "acme", "acme/healthy", "acme/health/ward-3", "acme/r_d/lab", "x"];
        foreach (string scope in scopes)
        {
            ExpectAuthorize(context, new Subject("id-" + scope, SubjectKind.User, [new RoleBinding("clinician", Scope: scope), new RoleBinding("viewer")]), "data:read");
        }

        var connection = (NpgsqlConnection)context.Database.GetDbConnection();
        using var command = new NpgsqlCommand("SELECT count(*), coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) FROM pg_prepared_statements WHERE statement LIKE '%FROM documents%'", connection);
        using var reader = command.ExecuteReader();
        reader.Read().Should().BeTrue();
        long statements = reader.GetInt64(0), generic = reader.GetInt64(1), custom = reader.GetInt64(2);
        output.WriteLine($"{scopes.Length} subjects: {statements} prepared statement(s), {generic} generic and {custom} custom plans");
        statements.Should().Be(1, "one statement text, prepared once on the server, serves every subject with these roles");
        (generic + custom).Should().BeGreaterThanOrEqualTo(scopes.Length - 2, "the prepared statement ran for the subjects after the first usages");
    }

    [SkippableFact]
    public void HostileSubjectValues_AreParameterValues_NotSql()
    {
        Skip.If(store.Unavailable is not null, store.Unavailable);
        const string Id = "x' OR '1'='1";
        var hostile = new Subject(Id, SubjectKind.User, [new RoleBinding("approver", Scope: "acme' OR TRUE --"), new RoleBinding("researcher", Scope: "acme/health")]);
        using var context = store.NewContext();
        string sql = Sql(context, hostile, "data:approve");
        output.WriteLine(sql);
        Where(sql).Should().NotContain("OR TRUE").And.NotContain("'1'='1'");
        ExpectAuthorize(context, hostile, "data:approve");
        ExpectAuthorize(context, hostile, "data:read");
    }

    private static string Sql(DocumentContext context, Subject subject, string action)
        => Policy.FilterFor(subject, action).ToStoreFilter(Mapping, StoreScenario.Postgres).Apply(context.Documents.AsNoTracking()).ToQueryString();

    /// <summary>The statement without the parameter comments EF Core puts before it.</summary>
    private static string Where(string sql) => ParameterComment().Replace(sql, string.Empty);

    /// <summary>A query shape no other test uses, so that EF Core's cache (shared by contexts with the same options) starts without it.</summary>
    private static IQueryable<Document> UniqueShape(IQueryable<Document> query) => query.Where(d => d.Id != -20261201);

    private void ExpectAuthorize(DocumentContext context, Subject subject, string action, Func<IQueryable<Document>, IQueryable<Document>>? shape = null)
    {
        var filter = Policy.FilterFor(subject, action).ToStoreFilter(Mapping, StoreScenario.Postgres);
        filter.IsExact.Should().BeTrue(filter.Approximations.ToString());
        var allowed = store.Documents.Where(d => Policy.Authorize(subject, action, Mapping.ToResource(d)).Allowed).Select(d => d.Id).Order().ToList();
        var fromSql = filter.Apply((shape ?? (q => q))(context.Documents.AsNoTracking())).OrderBy(d => d.Id).Select(d => d.Id).ToList();
        fromSql.Should().Equal(allowed, $"the SQL result for {subject.Id} is exactly what Authorize allows");
    }

    [GeneratedRegex("^-- @.*\\n", RegexOptions.Multiline)]
    private static partial Regex ParameterComment();
}
