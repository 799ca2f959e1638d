using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using AiRbac;
using AiRbac.AspNetCore;
using AiRbac.Yaml;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Options;

var authorizer = new PolicyAuthorizer();
// The policy file beside this project (copied to the output), tested by policy.test.yaml with `airbac test`.
authorizer.Update(YamlPolicy.CompileFile(Path.Combine(AppContext.BaseDirectory, "policy.yaml")).Policy!, new PolicyVersion("sample", DateTimeOffset.UtcNow));

// The set-up of docs/integrations.md, with the header-based HeaderAuthentication below as "your scheme".
var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.UseTestServer(); // in-process server: no port is opened; a real service leaves this line out
builder.Logging.ClearProviders();
builder.Services.AddSingleton(authorizer);
builder.Services.AddAuthentication(HeaderAuthentication.SchemeName)
    .AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
builder.Services.AddAuthorization(); // UseAuthorization() needs it; AddAiRbacAuthorization() adds only the core services
builder.Services.AddAiRbacAuthorization();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
var ran = new List<string>();
app.MapPost("/models/{modelId}/query", (string modelId) => { ran.Add(modelId); return $"answer from {modelId}"; })
    .RequireAiRbac("model:query", "model:{modelId}");
await app.StartAsync();

using var client = app.GetTestClient();
(string? User, string? Roles, string Path, HttpStatusCode Expected)[] requests =
[
    ("alice", "analyst", "/models/demo-llm/query", HttpStatusCode.OK),
    ("alice", "analyst", "/models/gpt-4o/query", HttpStatusCode.Forbidden),
    ("rita", "researcher", "/models/gpt-4o/query", HttpStatusCode.OK),
    (null, null, "/models/demo-llm/query", HttpStatusCode.Unauthorized),
];

bool failed = false;
foreach (var (user, roles, path, expected) in requests)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, path);
    if (user is not null)
    {
        request.Headers.Add(HeaderAuthentication.UserHeader, user);
        request.Headers.Add(HeaderAuthentication.RolesHeader, roles);
    }

    using var response = await client.SendAsync(request);
    var ok = response.StatusCode == expected;
    failed |= !ok;
    Console.WriteLine($"POST {path} as {user ?? "(nobody)"} [{roles}]: {(int)response.StatusCode} {response.StatusCode}"
        + (ok ? "" : $"  error: expected {(int)expected} {expected}"));
}

var expectedRuns = requests.Count(r => r.Expected == HttpStatusCode.OK);
if (ran.Count != expectedRuns)
{
    Console.WriteLine($"error: the endpoint ran {ran.Count} times, expected {expectedRuns}");
    failed = true;
}

await app.StopAsync();
await app.DisposeAsync();
Console.WriteLine(failed ? "error: a response differs from the expectation" : "every response is as expected; refused requests never reached the endpoint");
return failed ? 1 : 0;

// Stands in for real authentication (JWT bearer, OpenID Connect, ...): it trusts the X-User and X-Roles request
// headers as they come, so never use it outside a sample or a test. AiRbac only reads the resulting
// HttpContext.User (name claim, role claims).
internal sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "sample-headers";
    public const string UserHeader = "X-User";
    public const string RolesHeader = "X-Roles";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var user = Request.Headers[UserHeader].ToString();
        if (user.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var claims = new List<Claim> { new(ClaimTypes.Name, user) };
        foreach (var role in Request.Headers[RolesHeader].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            claims.Add(new Claim(ClaimTypes.Role, role));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}
