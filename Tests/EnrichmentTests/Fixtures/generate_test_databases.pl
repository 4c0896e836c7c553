#!/usr/bin/perl
# Writes the generated MMDB fixtures for GeoDatabaseTests, with Debian's
# libmaxmind-db-writer-perl (ops/setup.sh installs it):
#   perl generate_test_databases.pl     (in this folder)
#
#   Vigil-City-Test.mmdb      GeoIP2-City, IPv6 tree, names in en/de/zh-CN, known answers below
#   Vigil-Country-V4-Test.mmdb GeoLite2-Country with an IPv4-only tree
#   Vigil-ASN-Test.mmdb       GeoLite2-ASN: opens, but is not a City/Country database
use strict;
use utf8;
use warnings;
use MaxMind::DB::Writer::Tree;

my %types = (
    city => 'map', continent => 'map', country => 'map', location => 'map', postal => 'map',
    subdivisions => ['array', 'map'], names => 'map', en => 'utf8_string', de => 'utf8_string',
    'zh-CN' => 'utf8_string', iso_code => 'utf8_string', code => 'utf8_string',
    geoname_id => 'uint32', latitude => 'double', longitude => 'double', time_zone => 'utf8_string',
    accuracy_radius => 'uint16', metro_code => 'uint16', traits => 'map', is_anycast => 'boolean',
    autonomous_system_number => 'uint32', autonomous_system_organization => 'utf8_string',
);

sub write_tree {
    my ($file, $type, $ip_version, $records) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version => $ip_version, record_size => 24, database_type => $type,
        languages => ['en', 'de', 'zh-CN'], description => { en => "Vigil test data: $type" },
        map_key_type_callback => sub { $types{ $_[0] } },
        remove_reserved_networks => 0, alias_ipv6_to_ipv4 => ($ip_version == 6 ? 1 : 0),
    );
    for my $pair (@$records) { $tree->insert_network($pair->[0], $pair->[1]); }
    open my $fh, '>:raw', $file or die "$file: $!";
    $tree->write_tree($fh);
    close $fh;
}

my $munich = {
    city => { geoname_id => 2867714, names => { en => 'Munich', de => 'München', 'zh-CN' => '慕尼黑' } },
    continent => { code => 'EU', names => { en => 'Europe', de => 'Europa' } },
    country => { iso_code => 'DE', names => { en => 'Germany', de => 'Deutschland' } },
    subdivisions => [ { iso_code => 'BY', names => { en => 'Bavaria', de => 'Bayern' } } ],
    location => { latitude => 48.1374, longitude => 11.5755, time_zone => 'Europe/Berlin', accuracy_radius => 20 },
    postal => { code => '80331' },
};
my $seattle = {
    city => { names => { en => 'Seattle' } },
    continent => { code => 'NA', names => { en => 'North America' } },
    country => { iso_code => 'US', names => { en => 'United States', de => 'Vereinigte Staaten' } },
    subdivisions => [ { iso_code => 'WA', names => { en => 'Washington' } } ],
    location => { latitude => 47.6062, longitude => -122.3321, time_zone => 'America/Los_Angeles',
                  accuracy_radius => 5, metro_code => 819 },
    postal => { code => '98101' },
};
write_tree('Vigil-City-Test.mmdb', 'GeoIP2-City', 6, [
    ['198.51.100.0/24' => $munich],          # a documentation range: test data only
    ['2001:db8:1::/48' => $munich],
    ['203.0.113.0/25' => $seattle],
    ['203.0.113.128/25' => { traits => { is_anycast => 1 } }],   # a record with no location
    ['192.0.2.0/24' => { continent => { code => 'AS', names => { en => 'Asia' } } }],
]);
write_tree('Vigil-Country-V4-Test.mmdb', 'GeoLite2-Country', 4, [
    ['198.51.100.0/24' => { country => $munich->{country}, continent => $munich->{continent} }],
]);
write_tree('Vigil-ASN-Test.mmdb', 'GeoLite2-ASN', 6, [
    ['198.51.100.0/24' => { autonomous_system_number => 64500, autonomous_system_organization => 'Example' }],
]);
