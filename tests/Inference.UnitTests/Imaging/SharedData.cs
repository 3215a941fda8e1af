namespace SegServe.Inference.UnitTests.Imaging;

/// <summary>Finds <c>shared/data</c> (the read-only test data beside the checkout) by walking up from the test binaries.</summary>
internal static class SharedData
{
    private static readonly Lazy<string?> s_root = new(Find);

    public static string Require(string relative)
    {
        if (s_root.Value is null)
        {
            Assert.Skip($"../shared is not beside this checkout: no shared/data above {AppContext.BaseDirectory}.");
        }

        return Path.Combine(s_root.Value, relative);
    }

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
