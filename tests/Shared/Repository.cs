namespace SegServe.Tests.Shared;

/// <summary>
/// Files of this checkout (the README, the committed models and example photos), found from the test binaries. Linked
/// into each test project that needs it (eShop's shared-file pattern) rather than copied.
/// </summary>
internal static class Repository
{
    private static readonly Lazy<string> s_root = new(static () =>
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SegServe.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root (SegServe.slnx) is not above the test binaries.");
    });

    public static string Root => s_root.Value;

    public static string PathOf(string relative) => Path.Combine(Root, relative);
}
