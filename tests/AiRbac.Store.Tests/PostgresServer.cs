using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AiRbac.Store.Tests;

/// <summary>
/// A PostgreSQL server of its own for the tests: <c>initdb</c> into a temporary folder, <c>pg_ctl start</c> on a free port
/// with trust authentication on a Unix socket in that folder (no TCP), run as the <c>postgres</c> user when the tests run
/// as root (initdb refuses root); stopped and deleted on dispose. The binaries come from <c>AIRBAC_PG_BIN</c>, else the
/// newest <c>/usr/lib/postgresql/*/bin</c>, else <c>PATH</c>. Without them the tests skip, unless <c>CI</c> or
/// <c>AIRBAC_REQUIRE_POSTGRES</c> is set (<c>.ci/run</c> sets the latter): then they fail.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private readonly string? bin;
    private readonly string? folder;
    private readonly bool asPostgres;

    public PostgresServer()
    {
        bin = FindBinaries();
        if (bin is null)
        {
            Unavailable = "PostgreSQL binaries (initdb, pg_ctl) not found: set AIRBAC_PG_BIN or install PostgreSQL (Debian: postgresql-15)";
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")) || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AIRBAC_REQUIRE_POSTGRES")))
            {
                throw new InvalidOperationException(Unavailable + "; CI (or AIRBAC_REQUIRE_POSTGRES) is set, so the PostgreSQL tests must run");
            }

            return;
        }

        asPostgres = OperatingSystem.IsLinux() && Environment.UserName == "root";
        folder = Path.Combine(Path.GetTempPath(), "airbac-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        string data = Path.Combine(folder, "data");
        if (asPostgres)
        {
            Run("chown", ["postgres:postgres", folder], asUser: false);
        }

        Port = FreePort();
        Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", "airbac", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], asPostgres);
        Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60", "start",
            "-o", string.Create(CultureInfo.InvariantCulture, $"-p {Port} -k {folder} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off")], asPostgres);
        Started = true;
        ConnectionString = string.Create(CultureInfo.InvariantCulture, $"Host={folder};Port={Port};Username=airbac;Database=postgres;Pooling=true;Command Timeout=300");
    }

    /// <summary>Why the server is not available (the tests skip with it), or null.</summary>
    public string? Unavailable { get; }

    public bool Started { get; }

    public int Port { get; }

    public string ConnectionString { get; } = string.Empty;

    public void Dispose()
    {
        if (folder is null)
        {
            return;
        }

        if (Started)
        {
            try
            {
                Run(Path.Combine(bin!, "pg_ctl"), ["-D", Path.Combine(folder, "data"), "-m", "immediate", "-w", "stop"], asPostgres);
            }
            catch (InvalidOperationException)
            {
                // Still delete the folder; the server log said why.
            }
        }

        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string? FindBinaries()
    {
        static bool Has(string dir) => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));
        if (Environment.GetEnvironmentVariable("AIRBAC_PG_BIN") is { Length: > 0 } configured)
        {
            return Has(configured) ? configured : null;
        }

        if (Directory.Exists("/usr/lib/postgresql"))
        {
            foreach (string dir in Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out int v) ? v : 0))
            {
                if (Has(Path.Combine(dir, "bin")))
                {
                    return Path.Combine(dir, "bin");
                }
            }
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            if (dir.Length > 0 && Has(dir))
            {
                return dir;
            }
        }

        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Run(string program, string[] arguments, bool asUser)
    {
        var start = new ProcessStartInfo(asUser ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asUser)
        {
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add("postgres");
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(program);
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {stdout.Result}{stderr.Result}");
        }
    }
}
