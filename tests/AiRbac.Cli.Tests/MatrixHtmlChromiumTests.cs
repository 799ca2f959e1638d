using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;

namespace AiRbac.Cli.Tests;

/// <summary>
/// The HTML matrix rendered in headless Chromium: a screenshot that shows a real page (size, dimensions, many colours,
/// the red risk badges) and the rendered DOM holding the risk flags and holders, with hostile policy text inert.
/// Skipped only when no Chromium is installed; .ci/run installs Debian's chromium package and sets AIRBAC_REQUIRE_CHROMIUM=1,
/// so that in CI a missing Chromium fails the test instead.
/// </summary>
public class MatrixHtmlChromiumTests
{
    private const int Width = 1280;
    private const int Height = 1024;

    // A role name and a subject id an attacker chose; and a policy an operator would review.
    private const string Policy = """
        version: 1
        roles:
          viewer:
            allow: [ "data:read on output:*" ]
          "<script>document.title='pwned'</script>":
            inherits: [viewer]
            allow: [ "*:* on *:**" ]
          clinician:
            allow: [ "data:read on dataset:patients/**" ]
            max_sensitivity: restricted
            clearances: [phi]
        resources:
          - { match: "dataset:patients/**", sensitivity: restricted, tags: [phi] }
        constraints:
          not_by_owner: [config:approve]
        bindings:
          subjects:
            mallory: { roles: [ "<script>document.title='pwned'</script>" ] }
            "<img src=x onerror=document.title='pwned2'>": { roles: [clinician] }
            carol: { roles: [clinician], scope: acme/health }
        """;

    [SkippableFact]
    public void MatrixHtml_InHeadlessChromium_RendersRiskAndHoldersAndKeepsPolicyTextInert()
    {
        string? chromium = FindChromium();
        if (chromium is null && Environment.GetEnvironmentVariable("AIRBAC_REQUIRE_CHROMIUM") == "1")
        {
            Assert.Fail("Chromium is required here (AIRBAC_REQUIRE_CHROMIUM=1, as .ci/run sets) but was not found: install Debian's chromium package");
        }

        Skip.If(chromium is null, "Chromium is not installed (looked for AIRBAC_CHROMIUM, chromium, chromium-browser, google-chrome on PATH); .ci/run installs it");

        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);
        var result = Cli.Run("matrix", policy, "--format", "html", "--now", "2026-06-01T00:00:00Z");
        result.ExitCode.Should().Be(0, result.Error);
        string page = files.Write("matrix.html", result.Out);
        string url = new Uri(page).AbsoluteUri;

        // The screenshot.
        string png = files.PathOf("matrix.png");
        Chromium(chromium!, files, $"--screenshot={png}", $"--window-size={Width},{Height}", url);
        File.Exists(png).Should().BeTrue("Chromium writes the screenshot");
        var image = Png.Decode(File.ReadAllBytes(png));
        image.Width.Should().Be(Width);
        image.Height.Should().Be(Height);
        new FileInfo(png).Length.Should().BeGreaterThan(10_000, "a rendered page of tables, not an empty one");
        image.DistinctColours.Should().BeGreaterThan(20, "text, borders, shading and badges, not a blank page");
        image.DominantShare.Should().BeLessThan(0.97, "a page with content, not one colour");
        image.CountNear(0xb4, 0x23, 0x18, tolerance: 12).Should().BeGreaterThan(200, "the red risk badges are drawn");

        // The rendered DOM: the risk flags and holders are there, the hostile text is text, and no script ran.
        string dom = Chromium(chromium!, files, "--dump-dom", url);
        dom.Should().Contain("<span class=\"flag\">grants everything (*:* on *:**)</span>");
        dom.Should().Contain("<span class=\"flag\">clearance phi (PHI)</span>").And.Contain("<span class=\"flag\">highest ceiling (restricted)</span>");
        dom.Should().Contain("<code>mallory</code>", "the holder of the everything-role is named");
        dom.Should().Contain("<code>carol in scope acme/health</code>");
        dom.Should().Contain("<span class=\"flag\">highest tier</span>", "the catalog marks the restricted entry");
        dom.Should().Contain("&lt;script&gt;document.title='pwned'&lt;/script&gt;").And.NotContain("<script");
        dom.Should().Contain("&lt;img src=x onerror=document.title='pwned2'&gt;").And.NotContain("<img");
        dom.Should().Contain("<title>Access-control matrix:").And.NotContain("pwned</title>").And.NotContain("<title>pwned");
        dom.Should().Contain("<time id=\"generated\">2026-06-01T00:00:00Z</time>");
    }

    private static string? FindChromium()
    {
        if (Environment.GetEnvironmentVariable("AIRBAC_CHROMIUM") is { Length: > 0 } configured && File.Exists(configured))
        {
            return configured;
        }

        string[] names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return folders.SelectMany(folder => names.Select(name => Path.Combine(folder, name))).FirstOrDefault(File.Exists);
    }

    /// <summary>Runs headless Chromium (no network, no GPU, a fresh profile) and returns its standard output.</summary>
    private static string Chromium(string chromium, TempFiles files, params string[] args)
    {
        var start = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--hide-scrollbars", $"--user-data-dir={files.PathOf("profile-" + Guid.NewGuid().ToString("N"))}", .. args])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("Chromium did not finish in 2 minutes: " + error.Result);
        }

        process.ExitCode.Should().Be(0, error.Result);
        return output.Result;
    }

    /// <summary>A minimal PNG reader (8-bit RGB or RGBA, non-interlaced, as Chromium writes): enough to look at the pixels.</summary>
    private sealed class Png
    {
        private readonly byte[] pixels;
        private readonly int channels;

        private Png(int width, int height, int channels, byte[] pixels)
        {
            Width = width;
            Height = height;
            this.channels = channels;
            this.pixels = pixels;
        }

        public int Width { get; }

        public int Height { get; }

        public int DistinctColours => Enumerable.Range(0, Width * Height).Select(Rgb).Distinct().Count();

        public double DominantShare => Enumerable.Range(0, Width * Height).GroupBy(Rgb).Max(g => g.Count()) / (double)(Width * Height);

        public int CountNear(int r, int g, int b, int tolerance)
            => Enumerable.Range(0, Width * Height).Count(i =>
                Math.Abs(pixels[i * channels] - r) <= tolerance && Math.Abs(pixels[(i * channels) + 1] - g) <= tolerance && Math.Abs(pixels[(i * channels) + 2] - b) <= tolerance);

        private int Rgb(int i) => (pixels[i * channels] << 16) | (pixels[(i * channels) + 1] << 8) | pixels[(i * channels) + 2];

        public static Png Decode(byte[] file)
        {
            file.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }).Should().BeTrue("a PNG signature");
            int width = 0, height = 0, channels = 0;
            using var idat = new MemoryStream();
            for (int at = 8; at < file.Length;)
            {
                int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
                string type = System.Text.Encoding.ASCII.GetString(file, at + 4, 4);
                var data = file.AsSpan(at + 8, length);
                if (type == "IHDR")
                {
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    data[8].Should().Be(8, "8 bits per channel");
                    channels = data[9] switch { 2 => 3, 6 => 4, _ => throw new InvalidDataException($"PNG colour type {data[9]}") };
                    data[12].Should().Be(0, "not interlaced");
                }
                else if (type == "IDAT")
                {
                    idat.Write(data);
                }

                at += 12 + length;
            }

            idat.Position = 0;
            using var inflated = new MemoryStream();
            using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
            {
                zlib.CopyTo(inflated);
            }

            byte[] raw = inflated.ToArray();
            int stride = width * channels;
            raw.Length.Should().Be(height * (stride + 1), "one filter byte and one row per line");
            byte[] pixels = new byte[height * stride];
            for (int y = 0; y < height; y++)
            {
                byte filter = raw[y * (stride + 1)];
                for (int x = 0; x < stride; x++)
                {
                    int value = raw[(y * (stride + 1)) + 1 + x];
                    int left = x >= channels ? pixels[(y * stride) + x - channels] : 0;
                    int up = y > 0 ? pixels[((y - 1) * stride) + x] : 0;
                    int upLeft = x >= channels && y > 0 ? pixels[((y - 1) * stride) + x - channels] : 0;
                    pixels[(y * stride) + x] = (byte)(filter switch
                    {
                        0 => value,
                        1 => value + left,
                        2 => value + up,
                        3 => value + ((left + up) / 2),
                        4 => value + Paeth(left, up, upLeft),
                        _ => throw new InvalidDataException($"PNG filter {filter}"),
                    });
                }
            }

            return new Png(width, height, channels, pixels);
        }

        private static int Paeth(int a, int b, int c)
        {
            int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
            return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
    }
}
